namespace TinyOdl.Simulation;

/// <summary>
/// The vtype CSR (RVV 1.0, "vtype"): vlmul in bits 2:0 (0..3 = LMUL 1..8, 5..7 = 1/8..1/2, 4 reserved), vsew in
/// bits 5:3 (SEW = 8 << vsew), vta bit 6, vma bit 7, vill bit 31.
/// </summary>
public readonly record struct VectorType(uint Bits)
{
    public const uint IllegalBit = 0x80000000;

    public bool Illegal => (Bits & IllegalBit) != 0;
    public int SewBits => 8 << (int)((Bits >> 3) & 7);
    public int SewBytes => 1 << (int)((Bits >> 3) & 7);
    /// <summary>LMUL in eighths: 1 (mf8) .. 64 (m8).</summary>
    public int LmulEighths => (Bits & 4) == 0 ? 8 << (int)(Bits & 3) : 1 << (int)((Bits & 7) - 5);
    public bool TailAgnostic => (Bits & 0x40) != 0;
    public bool MaskAgnostic => (Bits & 0x80) != 0;

    /// <summary>VLMAX = LMUL · VLEN / SEW.</summary>
    public int VlMax(int vlenBits) => LmulEighths * vlenBits / (8 * SewBits);

    /// <summary>
    /// Whether a hart with ELEN <paramref name="elen"/> supports this setting, as QEMU 7.2 decides: a reserved vlmul
    /// (4), SEW above ELEN, a fractional LMUL with SEW &gt; ELEN·LMUL, or a non-zero reserved bit (8..30) give vill.
    /// </summary>
    public static bool Supported(uint bits, int elen)
    {
        uint lmul = bits & 7;
        int sew = 8 << (int)((bits >> 3) & 7);
        if ((bits & 0x7FFFFF00) != 0 || (bits & IllegalBit) != 0 || lmul == 4 || sew > elen) return false;
        if ((lmul & 4) != 0 && (elen >> (int)(8 - lmul)) < sew) return false;
        return true;
    }

    /// <summary>"e16, m2, ta, ma" (the assembler's spelling of a vtype immediate).</summary>
    public static string Describe(uint bits)
    {
        var t = new VectorType(bits);
        uint lmul = bits & 7;
        string l = lmul switch { 5 => "mf8", 6 => "mf4", 7 => "mf2", 4 => "m?", _ => "m" + (1 << (int)lmul) };
        return $"e{t.SewBits}, {l}, {(t.TailAgnostic ? "ta" : "tu")}, {(t.MaskAgnostic ? "ma" : "mu")}";
    }

    public override string ToString() => Illegal ? "vill" : Describe(Bits);
}
