using TinyOdl.Passes;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// PHM layers (docs/PHM.md), written once for linear and convolutional layers (a linear layer has one tap) and every
/// precision. Layouts: A [i][r][c], F [i][p][q][t], W [r P + p][c Q + q][t] (the ordinary layer's [out][in][kh][kw]).
/// Each sum is a chain of fused multiply-adds in the accumulation type, rounded once to storage.
/// </summary>
internal static class PhmLowering
{
    /// <summary>
    /// W = sum_i A_i (x) F_i. The chain starts from the first product itself, not from +0, so n = 1 gives
    /// W = A_0 * F_0, exactly F when A_0 = 1 (signed zeros included): the ordinary layer.
    /// </summary>
    public static Kernel BuildWeight(PhmShape s, Numerics n)
    {
        var acc = n.Accumulate;
        var k = new KernelBuilder();
        var a = k.Input("a", n.Storage, s.N * s.N * s.N);
        var f = k.Input("f", n.Storage, s.N * s.P * s.Q * s.KernelArea);
        var w = k.Output("w", n.Storage, s.WeightElements);
        Expr A(Expr i, Expr r, Expr c) => Cast(a[(i * s.N + r) * s.N + c], acc);
        Expr F(Expr i, Expr p, Expr q, Expr t) => Cast(f[((i * s.P + p) * s.Q + q) * s.KernelArea + t], acc);
        k.For("r", 0, s.N, r => k.For("p", 0, s.P, p => k.For("c", 0, s.N, c => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
        {
            var sum = k.Declare("sum", A(0, r, c) * F(0, p, q, t));
            if (s.N > 1) k.For("i", 1, s.N, i => k.Assign(sum, Fma(A(i, r, c), F(i, p, q, t), Ref(sum))));
            k.Store(w, ((r * s.P + p) * s.N * s.Q + c * s.Q + q) * s.KernelArea + t, Cast(Ref(sum), n.Storage));
        })))));
        return k.BuildKernel($"phm_build_weight_{n.Tag}_n{s.N}_{s.N * s.P}x{s.N * s.Q}{(s.KernelArea > 1 ? $"x{s.KernelArea}" : "")}");
    }

    /// <summary>
    /// dA (sums over p, q, t ascending) and dF (sums over r, c ascending) from G = dL/dW, each from +0. Buffers: g, then
    /// a (only for dF), f (only for dA), then da and df as requested: a frozen factor's kernel takes only what it reads.
    /// </summary>
    public static Kernel Gradient(PhmShape s, bool da, bool df, Numerics n)
    {
        var acc = n.Accumulate;
        var k = new KernelBuilder();
        var g = k.Input("g", n.Storage, s.WeightElements);
        var a = df ? k.Input("a", n.Storage, s.N * s.N * s.N) : null;
        var f = da ? k.Input("f", n.Storage, s.N * s.P * s.Q * s.KernelArea) : null;
        var dA = da ? k.Output("da", n.Storage, s.N * s.N * s.N) : null;
        var dF = df ? k.Output("df", n.Storage, s.N * s.P * s.Q * s.KernelArea) : null;
        Expr G(Expr r, Expr p, Expr c, Expr q, Expr t) => Cast(g[((r * s.P + p) * s.N * s.Q + c * s.Q + q) * s.KernelArea + t], acc);
        if (dA is not null)
            k.For("i", 0, s.N, i => k.For("r", 0, s.N, r => k.For("c", 0, s.N, c =>
            {
                var sum = k.Declare("sum", Const(0f, acc));
                k.For("p", 0, s.P, p => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
                    k.Assign(sum, Fma(G(r, p, c, q, t), Cast(f![((i * s.P + p) * s.Q + q) * s.KernelArea + t], acc), Ref(sum))))));
                k.Store(dA, (i * s.N + r) * s.N + c, Cast(Ref(sum), n.Storage));
            })));
        if (dF is not null)
            k.For("i", 0, s.N, i => k.For("p", 0, s.P, p => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
            {
                var sum = k.Declare("sum", Const(0f, acc));
                k.For("r", 0, s.N, r => k.For("c", 0, s.N, c =>
                    k.Assign(sum, Fma(G(r, p, c, q, t), Cast(a![(i * s.N + r) * s.N + c], acc), Ref(sum)))));
                k.Store(dF, ((i * s.P + p) * s.Q + q) * s.KernelArea + t, Cast(Ref(sum), n.Storage));
            }))));
        string parts = (da, df) switch { (true, true) => "", (true, false) => "_a", _ => "_f" };
        return k.BuildKernel($"phm_gradient{parts}_{n.Tag}_n{s.N}_{s.N * s.P}x{s.N * s.Q}{(s.KernelArea > 1 ? $"x{s.KernelArea}" : "")}");
    }
}
