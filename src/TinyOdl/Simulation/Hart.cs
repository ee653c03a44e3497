using TinyOdl.Numerics;

namespace TinyOdl.Simulation;

/// <summary>
/// The architectural state of the one RV32 hart (machine mode only): integer, floating-point (FLEN 32; binary16
/// values NaN-boxed in the upper 16 bits) and vector registers, the program counter, the retired-instruction count,
/// and the machine CSRs (<see cref="Csr"/>).
/// </summary>
public sealed class Hart
{
    public Hart(IsaFeatures features, int vlenBits)
    {
        Features = features;
        if (features.HasFlag(IsaFeatures.V))
        {
            if (vlenBits < 64 || vlenBits > 65536 || (vlenBits & (vlenBits - 1)) != 0)
                throw new TinyOdlException($"VLEN {vlenBits} is not a power of two between 64 and 65536");
            VlenBits = vlenBits;
        }
        V = new byte[32 * Vlenb];
        Csr = new Csr(this);
        Vtype = new VectorType(VectorType.IllegalBit);
    }

    public IsaFeatures Features { get; }

    /// <summary>x0..x31 and, at index 32, the sink for writes to x0 (<see cref="Instruction.ZeroSink"/>).</summary>
    public uint[] X { get; } = new uint[33];

    /// <summary>f0..f31 as binary32 bit patterns (binary16 values NaN-boxed: upper half all ones).</summary>
    public uint[] F { get; } = new uint[32];

    public uint Pc { get; set; }

    /// <summary>Instructions retired so far (the basis of minstret and mcycle).</summary>
    public ulong Instret { get; set; }

    /// <summary>Accrued exception flags (fflags).</summary>
    public ExceptionFlags Fflags { get; set; }

    /// <summary>Dynamic rounding mode (frm, 3 bits; 5..7 make dynamic-rounding instructions illegal).</summary>
    public uint Frm { get; set; }

    public int VlenBits { get; }
    public int Vlenb => VlenBits / 8;

    /// <summary>v0..v31, register r at bytes [r·VLENB, (r+1)·VLENB), elements little-endian.</summary>
    public byte[] V { get; }

    public uint Vl { get; set; }
    public VectorType Vtype { get; set; }
    public uint Vstart { get; set; }

    /// <summary>The LR/SC reservation (address), if any.</summary>
    public uint? Reservation { get; set; }

    public Csr Csr { get; }

    /// <summary>A binary16 operand read from an f register: an improperly NaN-boxed value reads as the canonical NaN.</summary>
    public ushort Half(int r)
    {
        uint v = F[r];
        return (v >> 16) == 0xFFFF ? (ushort)v : Binary16.CanonicalNaN;
    }

    public void SetHalf(int r, ushort value) => F[r] = 0xFFFF0000u | value;
}
