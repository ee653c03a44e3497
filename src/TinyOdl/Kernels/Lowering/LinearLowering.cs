using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Linear layer kernels, W stored [out][in] row-major, written once for every precision: operands are read in
/// the storage type, widened to the accumulation type (exact), combined by a chain of fused multiply-adds in
/// ascending index order, and the result rounded once to the storage type (docs/NUMERICS.md).
/// </summary>
internal static class LinearLowering
{
    /// <summary>y[o] = fma(W[o][in-1], x[in-1], ... fma(W[o][0], x[0], b[o])).</summary>
    public static Kernel Forward(int inF, int outF, bool bias, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", n.Storage, inF);
        var w = k.Input("w", n.Storage, outF * inF);
        var b = bias ? k.Input("b", n.Storage, outF) : null;
        var y = k.Output("y", n.Storage, outF);
        // Lanes over outputs: each lane keeps its own accumulator, so the reduction order over i is the scalar one.
        k.For("o", 0, outF, target.Vector, o =>
        {
            var acc = k.Declare("acc", b is null ? Const(0f, n.Accumulate) : Cast(b[o], n.Accumulate));
            k.For("i", 0, inF, i => k.Assign(acc, Fma(Cast(w[o * inF + i], n.Accumulate), Cast(x[i], n.Accumulate), Ref(acc))));
            k.Store(y, o, Cast(Ref(acc), n.Storage));
        });
        return k.BuildKernel($"linear_{n.Tag}_forward{target.Suffix}_{inF}x{outF}{(bias ? "" : "_nobias")}");
    }

    /// <summary>dx[i] = sum over o ascending of W[o][i] * dy[o], fused, starting from +0.</summary>
    public static Kernel InputGradient(int inF, int outF, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, outF);
        var w = k.Input("w", n.Storage, outF * inF);
        var dx = k.Output("dx", n.Storage, inF);
        k.For("i", 0, inF, target.Vector, i =>
        {
            var acc = k.Declare("acc", Const(0f, n.Accumulate));
            k.For("o", 0, outF, o => k.Assign(acc, Fma(Cast(w[o * inF + i], n.Accumulate), Cast(dy[o], n.Accumulate), Ref(acc))));
            k.Store(dx, i, Cast(Ref(acc), n.Storage));
        });
        return k.BuildKernel($"linear_{n.Tag}_input_gradient{target.Suffix}_{inF}x{outF}");
    }

    /// <summary>
    /// dW[o][i] = dy[o] * x[i] (batch 1: one rounded product per element). One multiply in the storage type:
    /// a wider product rounded to storage would give the same bits, so every precision with this storage shares it.
    /// </summary>
    public static Kernel WeightGradient(int inF, int outF, ScalarType storage, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", storage, outF);
        var x = k.Input("x", storage, inF);
        var dw = k.Output("dw", storage, outF * inF);
        k.For("o", 0, outF, o => k.For("i", 0, inF, target.Vector, i => k.Store(dw, o * inF + i, dy[o] * x[i])));
        return k.BuildKernel($"linear_{storage.Tag()}_weight_gradient{target.Suffix}_{inF}x{outF}");
    }
}
