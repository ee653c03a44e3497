namespace TinyOdl.Tests.Numerics;

/// <summary>One operand set of the oracle programs (oracle/gen.h opset_t): three binary16 and three binary32 operands.</summary>
internal struct OpSet
{
    public ushort A, B, C;
    public uint X, Y, Z;

    public override readonly string ToString() => $"a={A:x4} b={B:x4} c={C:x4} x={X:x8} y={Y:x8} z={Z:x8}";
}

/// <summary>
/// The C# twin of oracle/gen.h: splitmix64, the biased operand generator, the edge-class sets and the hash.
/// Both sides must produce identical operand sets; keep the two files in step.
/// </summary>
internal static class OracleGenerator
{
    public const uint HashInit = 0x811C9DC5;

    public static uint Hash(uint h, uint w) => unchecked((h ^ w) * 0x01000193u);

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    public static ulong Next(ref ulong state)
    {
        unchecked { state += 0x9E3779B97F4A7C15UL; }
        return Mix(state);
    }

    public static ulong Seed(uint stream, uint chunk) => Mix(unchecked(0x0DD5EED0F16UL + ((ulong)stream << 32) + chunk));

    private static readonly byte[] Exp16 = [0, 0, 1, 1, 2, 13, 14, 15, 16, 17, 28, 29, 30, 30, 31, 31];
    private static readonly ushort[] Man16 = [0x000, 0x001, 0x200, 0x3FF, 0x3FE, 0x1FF, 0x100, 0x2AA];
    private static readonly byte[] Exp32 = [0, 0, 1, 2, 101, 102, 103, 112, 113, 126, 127, 128, 142, 143, 254, 255];

    public static ushort Gen16(ulong r)
    {
        uint lo = (uint)r, hi = (uint)(r >> 32);
        uint sign = (hi >> 28) & 1u, m = lo & 0x3FFu, e;
        switch (hi >> 29)
        {
            case 0:
            case 1: return (ushort)lo;
            case 2: e = Exp16[(lo >> 10) & 15u]; break;
            case 3: e = 11u + ((lo >> 10) & 7u); break;
            case 4: e = (lo >> 13) & 31u; m = Man16[(lo >> 10) & 7u]; break;
            case 5: e = (lo >> 10) & 3u; break;
            case 6: e = 27u + ((lo >> 10) & 3u); break;
            default: e = (lo >> 10) & 31u; m = lo & (lo >> 16) & 0x3FFu; break;
        }
        return (ushort)((sign << 15) | (e << 10) | m);
    }

    public static uint Gen32(ulong r)
    {
        uint lo = (uint)r, hi = (uint)(r >> 32);
        uint sign = (hi >> 28) & 1u, m = lo & 0x7FFFFFu, e;
        switch (hi >> 29)
        {
            case 0:
            case 1: return lo;
            case 2: e = 100u + (hi & 63u); break;
            case 3:
                {
                    e = 100u + (hi & 63u);
                    uint shift = 13u + (e < 113u ? 113u - e : 0u);
                    if (shift > 23u) shift = 23u;
                    uint half = 1u << (int)(shift - 1u);
                    uint low = ((hi >> 6) & 3u) switch { 0 => half, 1 => half - 1u, 2 => half + 1u, _ => 0u };
                    m = (m & ~((1u << (int)shift) - 1u)) | low;
                    break;
                }
            case 4: e = Exp32[hi & 15u]; break;
            case 5: e = Exp32[hi & 15u]; m = m & (m >> 7) & (hi >> 4) & 0x7FFFFFu; break;
            case 6: e = 119u + (hi & 15u); break;
            default: e = (hi >> 4) & 255u; break;
        }
        return (sign << 31) | (e << 23) | m;
    }

    public static OpSet GenSet(ref ulong state)
    {
        ulong r1 = Next(ref state), r2 = Next(ref state), r3 = Next(ref state), r4 = Next(ref state), r5 = Next(ref state);
        uint t = (uint)r5, u = (uint)(r5 >> 32);
        var s = new OpSet
        {
            A = Gen16(r1),
            B = Gen16(r1 >> 17 ^ r2),
            C = Gen16(r2 >> 23 ^ r3),
            X = Gen32(r3 >> 7 ^ r4),
            Y = Gen32(r4),
            Z = Gen32(r4 >> 29 ^ r2 << 3 ^ r1),
        };
        switch (t & 7u)
        {
            case 0:
                s.B = (ushort)(s.A ^ ((t >> 3) & 0x3Fu));
                break;
            case 1:
                s.B = (ushort)(s.A ^ 0x8000u ^ ((t >> 3) & 0x7u));
                break;
            case 2:
                {
                    int ea = (s.A >> 10) & 31, eb = (s.B >> 10) & 31;
                    int ec = ea + eb - 15 + (int)((t >> 3) & 3u) - 1;
                    if (ec >= 0 && ec <= 30)
                        s.C = (ushort)(((s.A ^ s.B ^ 0x8000u) & 0x8000u) | ((uint)ec << 10) | (s.C & 0x3FFu));
                    break;
                }
            case 3:
                s.B = (ushort)(0x3C00u | ((t << 12) & 0x8000u));
                s.C = (ushort)(s.A ^ ((s.B ^ 0x8000u) & 0x8000u) ^ ((t >> 4) & 0x3u));
                break;
            case 4:
                {
                    int ex = (int)((s.X >> 23) & 255u), ey = (int)((s.Y >> 23) & 255u);
                    int ez = ex + ey - 127 + (int)((t >> 3) & 3u) - 1;
                    if (ez >= 0 && ez <= 254)
                        s.Z = ((s.X ^ s.Y ^ 0x80000000u) & 0x80000000u) | ((uint)ez << 23) | (s.Z & 0x7FFFFFu);
                    break;
                }
            case 5:
                s.Y = 0x3F800000u | ((t << 28) & 0x80000000u);
                s.Z = s.X ^ ((s.Y ^ 0x80000000u) & 0x80000000u) ^ ((t >> 4) & 0x3u);
                break;
            case 6:
                s.Y = s.X ^ 0x80000000u ^ (u & 0x1FFFu);
                break;
        }
        return s;
    }

    public static readonly ushort[] Edge16 =
    [
        0x0000, 0x8000, 0x0001, 0x8001, 0x0002, 0x0200, 0x03FF, 0x83FF, 0x0400, 0x8400, 0x0401, 0x07FF,
        0x3C00, 0xBC00, 0x3C01, 0x3BFF, 0xBBFF, 0x3800, 0x4000, 0x3E00, 0x3555, 0x1000, 0x0C00, 0x1400,
        0x7BFF, 0xFBFF, 0x7BFE, 0x5BFF, 0x5C00, 0x4C00,
        0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x7C01, 0xFD55,
    ];

    public static readonly uint[] Edge32 =
    [
        0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x80800000,
        0x3F800000, 0xBF800000, 0x3F800001, 0x3F7FFFFF, 0x33800000, 0x33000000, 0x33000001, 0x33C00000,
        0x3F801000, 0x3F803000, 0x477FE000, 0x477FF000, 0x477FEFFF, 0xC77FF000, 0x47800000,
        0x38800000, 0x387FC000, 0x387FE000, 0x387FF000, 0xB87FF000, 0x7F7FFFFF, 0xFF7FFFFF,
        0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0xFFA00000, 0x4F000000,
    ];

    public static int EdgeCount => Edge16.Length;
    public static int EdgeTriples => EdgeCount * EdgeCount * EdgeCount;

    /// <summary>Edge operand set i of the 36^3 triples.</summary>
    public static OpSet EdgeSet(int i)
    {
        int n = EdgeCount, i0 = i / (n * n), i1 = i / n % n, i2 = i % n;
        return new OpSet { A = Edge16[i0], B = Edge16[i1], C = Edge16[i2], X = Edge32[i0], Y = Edge32[i1], Z = Edge32[i2] };
    }
}
