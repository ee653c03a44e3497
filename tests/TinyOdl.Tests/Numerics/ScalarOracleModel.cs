using TinyOdl.Numerics;

namespace TinyOdl.Tests.Numerics;

/// <summary>The operations of oracle/scalar.c, in its order, evaluated with the C# library.</summary>
internal static class ScalarOracleModel
{
    public static readonly string[] Names =
    [
        "fadd.h", "fsub.h", "fmul.h", "fdiv.h", "fsqrt.h",
        "fmadd.h", "fmsub.h", "fnmsub.h", "fnmadd.h", "fmin.h", "fmax.h",
        "fcvt.s.h", "fcvt.h.s",
        "fadd.s", "fsub.s", "fmul.s", "fmadd.s", "fmsub.s", "fnmsub.s", "fnmadd.s",
    ];

    public static int Count => Names.Length;

    private static readonly int[] Arity = [2, 2, 2, 2, 1, 3, 3, 3, 3, 2, 2, 1, 1, 2, 2, 2, 3, 3, 3, 3];
    private static readonly int[] Digits = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 4, 8, 8, 8, 8, 8, 8, 8];

    public static uint Eval(int op, in OpSet s, RoundingMode rm, out ExceptionFlags flags)
    {
        flags = 0;
        return op switch
        {
            0 => Binary16.Add(s.A, s.B, ref flags, rm),
            1 => Binary16.Sub(s.A, s.B, ref flags, rm),
            2 => Binary16.Mul(s.A, s.B, ref flags, rm),
            3 => Binary16.Div(s.A, s.B, ref flags, rm),
            4 => Binary16.Sqrt(s.A, ref flags, rm),
            5 => Binary16.FMAdd(s.A, s.B, s.C, ref flags, rm),
            6 => Binary16.FMSub(s.A, s.B, s.C, ref flags, rm),
            7 => Binary16.FNMSub(s.A, s.B, s.C, ref flags, rm),
            8 => Binary16.FNMAdd(s.A, s.B, s.C, ref flags, rm),
            9 => Binary16.Min(s.A, s.B, ref flags),
            10 => Binary16.Max(s.A, s.B, ref flags),
            11 => Binary16.ToSingle(s.A, ref flags),
            12 => Binary16.FromSingle(s.X, ref flags, rm),
            13 => Binary32.Add(s.X, s.Y, ref flags, rm),
            14 => Binary32.Sub(s.X, s.Y, ref flags, rm),
            15 => Binary32.Mul(s.X, s.Y, ref flags, rm),
            16 => Binary32.FMAdd(s.X, s.Y, s.Z, ref flags, rm),
            17 => Binary32.FMSub(s.X, s.Y, s.Z, ref flags, rm),
            18 => Binary32.FNMSub(s.X, s.Y, s.Z, ref flags, rm),
            19 => Binary32.FNMAdd(s.X, s.Y, s.Z, ref flags, rm),
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }

    /// <summary>The printed item: result bits (4 or 8 hex digits) then flags (2 hex digits).</summary>
    public static string Item(int op, uint result, ExceptionFlags flags) =>
        result.ToString(Digits[op] == 4 ? "x4" : "x8") + ((int)flags).ToString("x2");

    public static int EdgeCount(int op) => (int)Math.Pow(OracleGenerator.EdgeCount, Arity[op]);

    public static OpSet EdgeItem(int op, int i)
    {
        int n = OracleGenerator.EdgeCount;
        return OracleGenerator.EdgeSet(i * (Arity[op] == 1 ? n * n : Arity[op] == 2 ? n : 1));
    }

    /// <summary>The operands an op actually reads, for reports.</summary>
    public static string Operands(int op, in OpSet s) => (op, Arity[op]) switch
    {
        (12, _) => $"x={s.X:x8}",
        ( >= 13, 2) => $"x={s.X:x8} y={s.Y:x8}",
        ( >= 13, _) => $"x={s.X:x8} y={s.Y:x8} z={s.Z:x8}",
        (_, 1) => $"a={s.A:x4}",
        (_, 2) => $"a={s.A:x4} b={s.B:x4}",
        _ => $"a={s.A:x4} b={s.B:x4} c={s.C:x4}",
    };
}
