namespace TinyOdl.Kernels;

/// <summary>
/// What a vector backend needs to know about a lanes loop (<see cref="For.Lanes"/>): which values differ between
/// lanes ("varying") and the element stride of every memory access with respect to the lane index. Shared by the
/// C (RVV intrinsics) and LLVM IR (scalable vectors) backends so that both vectorize the same way.
/// </summary>
public sealed class LaneAnalysis
{
    private readonly Local _lane;
    private readonly HashSet<Local> _varying = [];

    public LaneAnalysis(For loop)
    {
        if (!loop.Lanes) throw new ArgumentException("not a lanes loop");
        _lane = loop.Index;
        // A local is varying if any value assigned to it is; iterate to a fixpoint (loops can feed back).
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (local, value) in Assignments(loop.Body))
                if (!_varying.Contains(local) && IsVarying(value))
                    changed = _varying.Add(local);
        }
        var types = IrWalker.Expressions(loop.Body).Where(IsVarying).Select(e => e.Type).Where(t => t.IsFloat())
            .Concat(IrWalker.StoredBuffers(loop.Body).Select(b => b.Element)).ToHashSet();
        HasHalf = types.Contains(ScalarType.F16);
        HasSingle = types.Contains(ScalarType.F32);
        Validate(loop.Body);
    }

    public Local Lane => _lane;
    public bool HasHalf { get; }
    public bool HasSingle { get; }
    public bool IsVaryingLocal(Local l) => _varying.Contains(l);

    public bool IsVarying(Expr e) => e switch
    {
        Load l => Stride(l.Index) != 0,
        LocalRef r => r.Local == _lane || _varying.Contains(r.Local),
        Binary b => IsVarying(b.Left) || IsVarying(b.Right),
        Fma f => IsVarying(f.A) || IsVarying(f.B) || IsVarying(f.C),
        Compare c => IsVarying(c.Left) || IsVarying(c.Right),
        Select s => IsVarying(s.Condition) || IsVarying(s.IfTrue) || IsVarying(s.IfFalse),
        Convert c => IsVarying(c.Operand),
        PopCount c => IsVarying(c.Operand),
        Call c => c.Arguments.Any(IsVarying),
        _ => false,
    };

    /// <summary>Element stride of an index expression per lane (0: the same element for all lanes).</summary>
    public int Stride(Expr index) => StrideOf(index) ?? throw new NotSupportedException($"vector backend: index {index} is not affine in {_lane.Name}");

    private int? StrideOf(Expr e) => e switch
    {
        IntConst => 0,
        LocalRef r => r.Local == _lane ? 1 : _varying.Contains(r.Local) ? null : 0,
        Binary { Op: BinaryOp.Add } b => StrideOf(b.Left) + StrideOf(b.Right),
        Binary { Op: BinaryOp.Sub } b => StrideOf(b.Left) - StrideOf(b.Right),
        Binary { Op: BinaryOp.Mul, Left: IntConst k } b => k.Value * StrideOf(b.Right),
        Binary { Op: BinaryOp.Mul, Right: IntConst k } b => StrideOf(b.Left) * k.Value,
        Binary { Op: BinaryOp.Mul } b => StrideOf(b.Left) == 0 && StrideOf(b.Right) == 0 ? 0 : null,
        _ => null,
    };

    /// <summary>Rejects what the vector backends cannot express, so a lowering mistake fails at code generation.</summary>
    private void Validate(IReadOnlyList<Stmt> body)
    {
        foreach (var s in body)
        {
            switch (s)
            {
                case Store st: _ = Stride(st.Index); break;
                case For { Lanes: true }: throw new NotSupportedException("vector backend: nested lanes loops");
                case For f:
                    if (IsVarying(f.From) || IsVarying(f.To)) throw new NotSupportedException("vector backend: loop bounds vary across lanes");
                    Validate(f.Body);
                    break;
            }
        }
        foreach (var e in IrWalker.Expressions(body))
        {
            if (e is Load l) _ = Stride(l.Index);
            if (e is Call c && c.Arguments.Any(IsVarying)) throw new NotSupportedException($"vector backend: call of {c.Function.Name} in a lanes loop");
            if (e is LocalRef r && r.Local == _lane && !InIndex(body, e)) throw new NotSupportedException("vector backend: the lane index used as a value");
        }
    }

    private static bool InIndex(IReadOnlyList<Stmt> body, Expr e) =>
        IrWalker.Expressions(body).Any(x => x is Load l && IrWalker.Flatten(l.Index).Contains(e))
        || IrWalker.Statements(body).OfType<Store>().Any(st => IrWalker.Flatten(st.Index).Contains(e));

    private static IEnumerable<(Local, Expr)> Assignments(IEnumerable<Stmt> body)
    {
        foreach (var s in IrWalker.Statements(body))
        {
            if (s is Declare d) yield return (d.Local, d.Init);
            if (s is Assign a) yield return (a.Local, a.Value);
        }
    }
}
