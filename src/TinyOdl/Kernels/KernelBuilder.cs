namespace TinyOdl.Kernels;

/// <summary>
/// Writes kernel IR as structured code: loops take a lambda for their body, so a lowering reads like the
/// loop nest it produces. Local names are made unique per function.
/// </summary>
public sealed class KernelBuilder
{
    private readonly Stack<List<Stmt>> _blocks = new();
    private readonly List<BufferParam> _params = [];
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);

    public KernelBuilder() => _blocks.Push([]);

    public BufferParam Input(string name, ScalarType type, int length) => AddParam(name, type, length, writable: false);
    public BufferParam Output(string name, ScalarType type, int length) => AddParam(name, type, length, writable: true);

    public Local Declare(string name, Expr init)
    {
        var local = NewLocal(name, init.Type);
        Emit(new Declare(local, init));
        return local;
    }

    public void Assign(Local local, Expr value)
    {
        if (local.Type != value.Type) throw new InvalidOperationException($"kernel IR: assigning {value.Type} to {local.Type} local {local.Name}");
        Emit(new Assign(local, value));
    }

    public void Store(BufferParam buffer, Expr index, Expr value)
    {
        if (!buffer.Writable) throw new InvalidOperationException($"kernel IR: store to read-only buffer {buffer.Name}");
        if (buffer.Element != value.Type) throw new InvalidOperationException($"kernel IR: storing {value.Type} into {buffer.Element} buffer {buffer.Name}");
        Emit(new Store(buffer, index, value));
    }

    public void For(string index, Expr from, Expr to, Action<Expr> body) => Loop(index, from, to, body, lanes: false);

    /// <summary>A loop whose iterations are independent; vector targets run it as SIMD lanes (see <see cref="Kernels.For"/>).</summary>
    public void LanesFor(string index, Expr from, Expr to, Action<Expr> body) => Loop(index, from, to, body, lanes: true);

    /// <summary><see cref="LanesFor"/> when <paramref name="lanes"/> is set, else a plain loop: lowerings write one loop nest for both.</summary>
    public void For(string index, Expr from, Expr to, bool lanes, Action<Expr> body) => Loop(index, from, to, body, lanes);

    /// <summary>for t in [0, count), or just body(0) when count is 1 (a single group needs no loop).</summary>
    public void ForCount(string index, int count, bool lanes, Action<Expr> body)
    {
        if (count == 1) body(0);
        else Loop(index, 0, count, body, lanes);
    }

    /// <summary>
    /// for t in [0, count) in blocks: body gets <paramref name="block"/> consecutive indices at a time, then the
    /// remainder one at a time (unroll and jam, with the body written once).
    /// </summary>
    public void ForBlocks(string index, int count, int block, Action<Expr[]> body)
    {
        int full = count / block;
        if (full > 0)
            ForCount(index + "_block", full, false, b => body(Enumerable.Range(0, block).Select(j => b * block + j).ToArray()));
        if (count % block != 0)
            ForCount(index, count % block, false, r => body([r + full * block]));
    }

    private void Loop(string index, Expr from, Expr to, Action<Expr> body, bool lanes)
    {
        var iv = NewLocal(index, ScalarType.I32);
        _blocks.Push([]);
        body(new LocalRef(iv));
        var stmts = _blocks.Pop();
        Emit(new For(iv, from, to, stmts, lanes));
    }

    public void Return(Expr value) => Emit(new Return(value));

    public Kernel BuildKernel(string name) => new(name, _params.ToArray(), Finish());

    public ScalarFunction BuildFunction(string name, ScalarType returnType, params Local[] parameters) =>
        new(name, returnType, parameters, Finish());

    /// <summary>A function parameter (scalar functions only).</summary>
    public Local Parameter(string name, ScalarType type) => NewLocal(name, type);

    private IReadOnlyList<Stmt> Finish()
    {
        if (_blocks.Count != 1) throw new InvalidOperationException("kernel IR: unbalanced blocks");
        return _blocks.Peek().ToArray();
    }

    private BufferParam AddParam(string name, ScalarType type, int length, bool writable)
    {
        var p = new BufferParam(Unique(name), type, length, writable);
        _params.Add(p);
        return p;
    }

    private Local NewLocal(string name, ScalarType type) => new(Unique(name), type);

    private string Unique(string name)
    {
        if (!_names.TryGetValue(name, out int n)) { _names[name] = 1; return name; }
        _names[name] = n + 1;
        return Unique($"{name}{n}");
    }

    private void Emit(Stmt s) => _blocks.Peek().Add(s);
}

/// <summary>Short constructors for expressions, so lowerings read like formulas.</summary>
public static class Ir
{
    public static Expr F(float v) => new FloatConst(v);

    /// <summary>A constant of a float type; for f16 the value is rounded to nearest even.</summary>
    public static Expr Const(float v, ScalarType type) => type switch
    {
        ScalarType.F32 => new FloatConst(v),
        ScalarType.F16 => new HalfConst(Numerics.Binary16.FromSingle(BitConverter.SingleToUInt32Bits(v))),
        _ => throw new ArgumentException($"no float constant of type {type}"),
    };

    /// <summary>e converted to a float type (no-op when it already has it): f16 -> f32 exact, f32 -> f16 rounded.</summary>
    public static Expr Cast(Expr e, ScalarType type) => (e.Type, type) switch
    {
        var (a, b) when a == b => e,
        (ScalarType.F16, ScalarType.F32) => new Convert(ConvertOp.Extend, e),
        (ScalarType.F32, ScalarType.F16) => new Convert(ConvertOp.Truncate, e),
        _ => throw new ArgumentException($"no conversion from {e.Type} to {type}"),
    };
    public static Expr Ref(Local l) => new LocalRef(l);
    public static Expr Fma(Expr a, Expr b, Expr c) =>
        a.Type == b.Type && b.Type == c.Type && a.Type.IsFloat()
            ? new Fma(a, b, c)
            : throw new InvalidOperationException($"kernel IR: fma of {a.Type}, {b.Type}, {c.Type}");
    public static Expr Select(Expr cond, Expr a, Expr b) => new Select(cond, a, b);
    public static Expr Lt(Expr a, Expr b) => new Compare(CompareOp.Lt, a, b);
    public static Expr Le(Expr a, Expr b) => new Compare(CompareOp.Le, a, b);
    public static Expr Gt(Expr a, Expr b) => new Compare(CompareOp.Gt, a, b);
    public static Expr Ge(Expr a, Expr b) => new Compare(CompareOp.Ge, a, b);
    public static Expr Eq(Expr a, Expr b) => new Compare(CompareOp.Eq, a, b);
    public static Expr Ne(Expr a, Expr b) => new Compare(CompareOp.Ne, a, b);
    public static Expr And(Expr a, Expr b) => Binary.Make(BinaryOp.And, a, b);
    public static Expr Or(Expr a, Expr b) => Binary.Make(BinaryOp.Or, a, b);
    public static Expr Xor(Expr a, Expr b) => Binary.Make(BinaryOp.Xor, a, b);
    public static Expr Popcount(Expr a) => a.Type == ScalarType.I32 ? new PopCount(a) : throw new InvalidOperationException($"kernel IR: popcount of {a.Type}");
    public static Expr Shl(Expr a, Expr b) => Binary.Make(BinaryOp.Shl, a, b);
    public static Expr LShr(Expr a, Expr b) => Binary.Make(BinaryOp.LShr, a, b);
    public static Expr ToInt(Expr f) => new Convert(ConvertOp.FloatToInt, f);
    public static Expr ToFloat(Expr i) => new Convert(ConvertOp.IntToFloat, i);
    public static Expr BitsOf(Expr f) => new Convert(ConvertOp.FloatBitsToInt, f);
    public static Expr FloatFromBits(Expr i) => new Convert(ConvertOp.IntBitsToFloat, i);
    public static Expr FloatFromBits(uint bits) => new FloatConst(BitConverter.UInt32BitsToSingle(bits));
}
