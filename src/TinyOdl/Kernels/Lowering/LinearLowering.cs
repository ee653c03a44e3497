using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Linear layer kernels, W stored [out][in] row-major. Every dot product is a chain of fused multiply-adds
/// in ascending index order, so its rounding sequence is fixed by the IR (docs/NUMERICS.md).
/// </summary>
internal static class LinearLowering
{
    /// <summary>y[o] = fma(W[o][in-1], x[in-1], ... fma(W[o][0], x[0], b[o])).</summary>
    public static Kernel Forward(int inF, int outF, bool bias)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", ScalarType.F32, inF);
        var w = k.Input("w", ScalarType.F32, outF * inF);
        var b = bias ? k.Input("b", ScalarType.F32, outF) : null;
        var y = k.Output("y", ScalarType.F32, outF);
        k.For("o", 0, outF, o =>
        {
            var acc = k.Declare("acc", b is null ? F(0f) : b[o]);
            k.For("i", 0, inF, i => k.Assign(acc, Fma(w[o * inF + i], x[i], Ref(acc))));
            k.Store(y, o, Ref(acc));
        });
        return k.BuildKernel($"linear_f32_forward_{inF}x{outF}{(bias ? "" : "_nobias")}");
    }

    /// <summary>dx[i] = sum over o ascending of W[o][i] * dy[o], fused, starting from +0.</summary>
    public static Kernel InputGradient(int inF, int outF)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", ScalarType.F32, outF);
        var w = k.Input("w", ScalarType.F32, outF * inF);
        var dx = k.Output("dx", ScalarType.F32, inF);
        k.For("i", 0, inF, i =>
        {
            var acc = k.Declare("acc", F(0f));
            k.For("o", 0, outF, o => k.Assign(acc, Fma(w[o * inF + i], dy[o], Ref(acc))));
            k.Store(dx, i, Ref(acc));
        });
        return k.BuildKernel($"linear_f32_input_gradient_{inF}x{outF}");
    }

    /// <summary>dW[o][i] = dy[o] * x[i] (batch 1: one rounded product per element).</summary>
    public static Kernel WeightGradient(int inF, int outF)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", ScalarType.F32, outF);
        var x = k.Input("x", ScalarType.F32, inF);
        var dw = k.Output("dw", ScalarType.F32, outF * inF);
        k.For("o", 0, outF, o => k.For("i", 0, inF, i => k.Store(dw, o * inF + i, dy[o] * x[i])));
        return k.BuildKernel($"linear_f32_weight_gradient_{inF}x{outF}");
    }
}
