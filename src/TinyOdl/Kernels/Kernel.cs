namespace TinyOdl.Kernels;

/// <summary>
/// A loop nest over pointer parameters: the unit every backend emits as one function.
/// Shapes are compile-time constants, so a kernel is specialized to one layer geometry;
/// its name says op, dtype, pass and shape (AIfES style: linear_f32_forward_64x32).
/// </summary>
public sealed class Kernel
{
    public Kernel(string name, IReadOnlyList<BufferParam> parameters, IReadOnlyList<Stmt> body)
    {
        Name = name;
        Parameters = parameters;
        Body = body;
    }

    public string Name { get; }
    public IReadOnlyList<BufferParam> Parameters { get; }
    public IReadOnlyList<Stmt> Body { get; }

    /// <summary>Scalar functions the body calls, directly or through other functions, callees first.</summary>
    public IEnumerable<ScalarFunction> Callees() => IrWalker.CalledFunctions(Body);
}

/// <summary>A pure scalar function (exp, log) written once in kernel IR and emitted by every backend.</summary>
public sealed class ScalarFunction
{
    public ScalarFunction(string name, ScalarType returnType, IReadOnlyList<Local> parameters, IReadOnlyList<Stmt> body)
    {
        Name = name;
        ReturnType = returnType;
        Parameters = parameters;
        Body = body;
    }

    public string Name { get; }
    public ScalarType ReturnType { get; }
    public IReadOnlyList<Local> Parameters { get; }
    public IReadOnlyList<Stmt> Body { get; }

    public Expr Invoke(params Expr[] args) => new Call(this, args);
}

/// <summary>Traversals shared by the backends and the evaluator.</summary>
public static class IrWalker
{
    public static IEnumerable<Expr> Expressions(IEnumerable<Stmt> body)
    {
        foreach (var s in body)
        {
            switch (s)
            {
                case Declare d: foreach (var e in Flatten(d.Init)) yield return e; break;
                case Assign a: foreach (var e in Flatten(a.Value)) yield return e; break;
                case Store st:
                    foreach (var e in Flatten(st.Index)) yield return e;
                    foreach (var e in Flatten(st.Value)) yield return e;
                    break;
                case For f:
                    foreach (var e in Flatten(f.From)) yield return e;
                    foreach (var e in Flatten(f.To)) yield return e;
                    foreach (var e in Expressions(f.Body)) yield return e;
                    break;
                case Return r: foreach (var e in Flatten(r.Value)) yield return e; break;
            }
        }
    }

    public static IEnumerable<Expr> Flatten(Expr e)
    {
        yield return e;
        IEnumerable<Expr> children = e switch
        {
            Load l => [l.Index],
            Binary b => [b.Left, b.Right],
            Fma f => [f.A, f.B, f.C],
            Compare c => [c.Left, c.Right],
            Select s => [s.Condition, s.IfTrue, s.IfFalse],
            Convert c => [c.Operand],
            PopCount c => [c.Operand],
            Call c => c.Arguments,
            _ => [],
        };
        foreach (var c in children)
            foreach (var x in Flatten(c))
                yield return x;
    }

    /// <summary>Every statement, nested loops' bodies included, in order.</summary>
    public static IEnumerable<Stmt> Statements(IEnumerable<Stmt> body)
    {
        foreach (var s in body)
        {
            yield return s;
            if (s is For f)
                foreach (var inner in Statements(f.Body))
                    yield return inner;
        }
    }

    /// <summary>Buffers a body stores to.</summary>
    public static IEnumerable<BufferParam> StoredBuffers(IEnumerable<Stmt> body) =>
        Statements(body).OfType<Store>().Select(s => s.Buffer).Distinct();

    /// <summary>Locals introduced by Declare statements and loops, in order.</summary>
    public static IEnumerable<Local> DeclaredLocals(IEnumerable<Stmt> body)
    {
        foreach (var s in body)
        {
            if (s is Declare d) yield return d.Local;
            if (s is For f)
            {
                yield return f.Index;
                foreach (var l in DeclaredLocals(f.Body)) yield return l;
            }
        }
    }

    /// <summary>All functions reachable from a body, in an order where callees come before callers.</summary>
    public static IReadOnlyList<ScalarFunction> CalledFunctions(IEnumerable<Stmt> body)
    {
        var order = new List<ScalarFunction>();
        void Visit(IEnumerable<Stmt> b)
        {
            foreach (var call in Expressions(b).OfType<Call>())
            {
                if (order.Contains(call.Function)) continue;
                Visit(call.Function.Body);
                order.Add(call.Function);
            }
        }
        Visit(body);
        return order;
    }
}
