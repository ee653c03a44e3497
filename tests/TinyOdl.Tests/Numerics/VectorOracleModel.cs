using System.Text;
using TinyOdl.Numerics;

namespace TinyOdl.Tests.Numerics;

/// <summary>
/// The vector instructions of oracle/vector.c, evaluated lane by lane with the scalar C# library: each lane is the
/// scalar operation on that lane's operands, the flags of an instruction are the OR over its lanes (for the ordered
/// reductions: over the chain of scalar additions in element order, starting from the scalar operand).
/// </summary>
internal static class VectorOracleModel
{
    public const int Lanes = 16;

    public static readonly string[] Names =
    [
        "vfadd.vv", "vfmul.vv", "vfmacc.vv", "vfwmacc.vv",
        "vfredosum.vs", "vfredosum.vs(tame)", "vfwredosum.vs", "vfwredosum.vs(tame)",
        "vfncvt.f.f.w", "vfwcvt.f.f.v",
    ];

    public static int Count => Names.Length;

    /// <summary>Results of one instruction over 16 lanes (one value for reductions) and its accrued flags.</summary>
    public static (uint[] Results, int Digits, ExceptionFlags Flags) Eval(int op, ReadOnlySpan<OpSet> g, RoundingMode rm)
    {
        ExceptionFlags f = 0;
        switch (op)
        {
            case 4:
            case 5:
                {
                    ushort tame = op == 5 ? (ushort)0xBFFF : (ushort)0xFFFF;
                    ushort s = (ushort)(g[0].C & tame);
                    for (int i = 0; i < Lanes; i++) s = Binary16.Add(s, (ushort)(g[i].A & tame), ref f, rm);
                    return ([s], 4, f);
                }
            case 6:
            case 7:
                {
                    bool tame = op == 7;
                    uint s = tame ? g[0].X & 0xBFFFFFFF : g[0].X;
                    for (int i = 0; i < Lanes; i++)
                        s = Binary32.Add(s, Binary16.ToSingle(tame ? (ushort)(g[i].A & 0xBFFF) : g[i].A, ref f), ref f, rm);
                    return ([s], 8, f);
                }
        }
        var r = new uint[Lanes];
        for (int i = 0; i < Lanes; i++)
        {
            ref readonly var s = ref g[i];
            r[i] = op switch
            {
                0 => Binary16.Add(s.A, s.B, ref f, rm),
                1 => Binary16.Mul(s.A, s.B, ref f, rm),
                2 => Binary16.FMAdd(s.A, s.B, s.C, ref f, rm),
                3 => Binary32.WideningMultiplyAdd(s.A, s.B, s.X, ref f, rm),
                8 => Binary16.FromSingle(s.X, ref f, rm),
                9 => Binary16.ToSingle(s.A, ref f),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
        }
        return (r, op is 3 or 9 ? 8 : 4, f);
    }

    public static string Item(uint[] results, int digits, ExceptionFlags flags)
    {
        var sb = new StringBuilder();
        foreach (var r in results) sb.Append(r.ToString(digits == 4 ? "x4" : "x8"));
        return sb.Append(((int)flags).ToString("x2")).ToString();
    }

    public static uint Hash(uint h, uint[] results, ExceptionFlags flags)
    {
        foreach (var r in results) h = OracleGenerator.Hash(h, r);
        return OracleGenerator.Hash(h, (uint)flags);
    }
}
