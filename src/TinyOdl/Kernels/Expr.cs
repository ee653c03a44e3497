using System.Globalization;

namespace TinyOdl.Kernels;

/// <summary>
/// A side-effect-free scalar expression of the kernel IR. Every float operation is a single IEEE operation
/// rounded to its result type; fused multiply-add exists only as <see cref="Fma"/>, so no backend may
/// contract or reassociate anything.
/// </summary>
public abstract record Expr(ScalarType Type)
{
    // Index arithmetic reads naturally in lowerings: o * n + i.
    public static Expr operator +(Expr a, Expr b) => Binary.Make(BinaryOp.Add, a, b);
    public static Expr operator -(Expr a, Expr b) => Binary.Make(BinaryOp.Sub, a, b);
    public static Expr operator *(Expr a, Expr b) => Binary.Make(BinaryOp.Mul, a, b);
    public static Expr operator /(Expr a, Expr b) => Binary.Make(BinaryOp.Div, a, b);
    public static Expr operator +(Expr a, int b) => a + new IntConst(b);
    public static Expr operator *(Expr a, int b) => a * new IntConst(b);
    public static Expr operator *(int a, Expr b) => new IntConst(a) * b;
    public static implicit operator Expr(int v) => new IntConst(v);
}

public sealed record FloatConst(float Value) : Expr(ScalarType.F32)
{
    public uint Bits => BitConverter.SingleToUInt32Bits(Value);
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture) + "f";
}

/// <summary>A binary16 constant, by its bit pattern.</summary>
public sealed record HalfConst(ushort Bits) : Expr(ScalarType.F16)
{
    public float Value => BitConverter.UInt32BitsToSingle(Numerics.Binary16.ToSingle(Bits));
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture) + "h";
}

public sealed record IntConst(int Value) : Expr(ScalarType.I32)
{
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A function-local scalar variable (loop index, accumulator, temporary).</summary>
public sealed class Local(string name, ScalarType type)
{
    public string Name { get; } = name;
    public ScalarType Type { get; } = type;
    public override string ToString() => Name;
}

public sealed record LocalRef(Local Local) : Expr(Local.Type)
{
    public override string ToString() => Local.Name;
}

/// <summary>A kernel parameter: a pointer to <see cref="Length"/> elements of <see cref="Element"/>.</summary>
public sealed class BufferParam(string name, ScalarType element, int length, bool writable)
{
    public string Name { get; } = name;
    public ScalarType Element { get; } = element;
    public int Length { get; } = length;
    public bool Writable { get; } = writable;

    /// <summary>Element access: x[i].</summary>
    public Expr this[Expr index] => new Load(this, index);
    public override string ToString() => Name;
}

public sealed record Load(BufferParam Buffer, Expr Index) : Expr(Buffer.Element)
{
    public override string ToString() => $"{Buffer.Name}[{Index}]";
}

public enum BinaryOp { Add, Sub, Mul, Div, And, Or, Xor, Shl, LShr }

public sealed record Binary(BinaryOp Op, Expr Left, Expr Right) : Expr(Left.Type)
{
    internal static Expr Make(BinaryOp op, Expr a, Expr b)
    {
        if (a.Type != b.Type) throw new InvalidOperationException($"kernel IR: {op} of {a.Type} and {b.Type}");
        if (a.Type == ScalarType.Bool) throw new InvalidOperationException($"kernel IR: {op} on bool");
        bool intOnly = op is BinaryOp.And or BinaryOp.Or or BinaryOp.Xor or BinaryOp.Shl or BinaryOp.LShr;
        if (intOnly && a.Type != ScalarType.I32) throw new InvalidOperationException($"kernel IR: {op} needs i32 operands");
        // Fold integer index arithmetic so generated code stays readable (i * 1, i + 0).
        if (a.Type == ScalarType.I32)
        {
            if (a is IntConst ca && b is IntConst cb && op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul)
                return new IntConst(op switch { BinaryOp.Add => ca.Value + cb.Value, BinaryOp.Sub => ca.Value - cb.Value, _ => ca.Value * cb.Value });
            if (op == BinaryOp.Mul && (a is IntConst { Value: 0 } || b is IntConst { Value: 0 })) return new IntConst(0);
            if (op == BinaryOp.Mul && b is IntConst { Value: 1 }) return a;
            if (op == BinaryOp.Mul && a is IntConst { Value: 1 }) return b;
            if (op is BinaryOp.Add or BinaryOp.Sub && b is IntConst { Value: 0 }) return a;
            if (op == BinaryOp.Add && a is IntConst { Value: 0 }) return b;
        }
        return new Binary(op, a, b);
    }

    public override string ToString() => $"({Left} {Op.ToString().ToLowerInvariant()} {Right})";
}

/// <summary>
/// The number of 1 bits of a 32-bit word (binary layers' XNOR-popcount). Targets with Zbb use <c>cpop</c>; others get
/// the compiler's portable expansion. Integer arithmetic, so every backend gives the same value by construction.
/// </summary>
public sealed record PopCount(Expr Operand) : Expr(ScalarType.I32)
{
    public override string ToString() => $"popcount({Operand})";
}

/// <summary>a * b + c with a single rounding (IEEE fusedMultiplyAdd), in the operands' type.</summary>
public sealed record Fma(Expr A, Expr B, Expr C) : Expr(A.Type)
{
    public override string ToString() => $"fma({A}, {B}, {C})";
}

public enum CompareOp
{
    /// <summary>Ordered comparisons: false when either operand is NaN (C's &lt;, &lt;=, &gt;, &gt;=, ==).</summary>
    Lt, Le, Gt, Ge, Eq,
    /// <summary>Unordered not-equal: true when either operand is NaN (C's !=).</summary>
    Ne,
}

public sealed record Compare(CompareOp Op, Expr Left, Expr Right) : Expr(ScalarType.Bool)
{
    public override string ToString() => $"({Left} {Op.ToString().ToLowerInvariant()} {Right})";
}

/// <summary>cond ? a : b; both operands are evaluated (they are side-effect free).</summary>
public sealed record Select(Expr Condition, Expr IfTrue, Expr IfFalse) : Expr(IfTrue.Type)
{
    public override string ToString() => $"select({Condition}, {IfTrue}, {IfFalse})";
}

public enum ConvertOp
{
    /// <summary>f32 to i32, rounding toward zero; the operand must be in range (lowerings clamp first).</summary>
    FloatToInt,
    /// <summary>i32 to f32, round to nearest even.</summary>
    IntToFloat,
    /// <summary>Reinterpret the 32 bits of an f32 as i32.</summary>
    FloatBitsToInt,
    /// <summary>Reinterpret the 32 bits of an i32 as f32.</summary>
    IntBitsToFloat,
    /// <summary>f16 to f32, exact.</summary>
    Extend,
    /// <summary>f32 to f16, round to nearest even.</summary>
    Truncate,
}

public sealed record Convert(ConvertOp Op, Expr Operand) : Expr(ResultType(Op))
{
    private static ScalarType ResultType(ConvertOp op) => op switch
    {
        ConvertOp.FloatToInt or ConvertOp.FloatBitsToInt => ScalarType.I32,
        ConvertOp.Truncate => ScalarType.F16,
        _ => ScalarType.F32,
    };

    public override string ToString() => $"{Op}({Operand})";
}

/// <summary>A call of a scalar library function (exp, log) defined once in kernel IR.</summary>
public sealed record Call(ScalarFunction Function, IReadOnlyList<Expr> Arguments) : Expr(Function.ReturnType)
{
    public override string ToString() => $"{Function.Name}({string.Join(", ", Arguments)})";
}
