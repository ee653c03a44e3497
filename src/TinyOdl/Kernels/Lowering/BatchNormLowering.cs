using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Batch normalization with frozen statistics, per channel c over its pixels, in the accumulation type:
/// xhat = (x - mean) * inv_std (two roundings), y = fma(xhat, scale, shift); dScale = sum fma(dy, xhat, .) from +0;
/// dX = (dy * scale) * inv_std.
/// </summary>
internal static class BatchNormLowering
{
    private static Expr Normalized(Expr x, Expr mean, Expr invStd, ScalarType a) => (Cast(x, a) - Cast(mean, a)) * Cast(invStd, a);

    public static Kernel Forward(int channels, int pixels, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", n.Storage, channels * pixels);
        var scale = k.Input("scale", n.Storage, channels);
        var shift = k.Input("shift", n.Storage, channels);
        var mean = k.Input("mean", n.Storage, channels);
        var invStd = k.Input("inv_std", n.Storage, channels);
        var y = k.Output("y", n.Storage, channels * pixels);
        var a = n.Accumulate;
        k.For("ch", 0, channels, ch => k.For("p", 0, pixels, target.Vector, p =>
            k.Store(y, ch * pixels + p, Cast(Fma(Normalized(x[ch * pixels + p], mean[ch], invStd[ch], a), Cast(scale[ch], a), Cast(shift[ch], a)), n.Storage))));
        return k.BuildKernel($"batch_norm_{n.Tag}_forward{target.Suffix}_{channels}x{pixels}");
    }

    public static Kernel ScaleGradient(int channels, int pixels, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, channels * pixels);
        var x = k.Input("x", n.Storage, channels * pixels);
        var mean = k.Input("mean", n.Storage, channels);
        var invStd = k.Input("inv_std", n.Storage, channels);
        var ds = k.Output("dscale", n.Storage, channels);
        var a = n.Accumulate;
        k.For("ch", 0, channels, target.Vector, ch =>
        {
            var acc = k.Declare("acc", Const(0f, a));
            k.For("p", 0, pixels, p => k.Assign(acc, Fma(Cast(dy[ch * pixels + p], a), Normalized(x[ch * pixels + p], mean[ch], invStd[ch], a), Ref(acc))));
            k.Store(ds, ch, Cast(Ref(acc), n.Storage));
        });
        return k.BuildKernel($"batch_norm_{n.Tag}_scale_gradient{target.Suffix}_{channels}x{pixels}");
    }

    public static Kernel InputGradient(int channels, int pixels, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, channels * pixels);
        var scale = k.Input("scale", n.Storage, channels);
        var invStd = k.Input("inv_std", n.Storage, channels);
        var dx = k.Output("dx", n.Storage, channels * pixels);
        var a = n.Accumulate;
        k.For("ch", 0, channels, ch => k.For("p", 0, pixels, target.Vector, p =>
            k.Store(dx, ch * pixels + p, Cast(Cast(dy[ch * pixels + p], a) * Cast(scale[ch], a) * Cast(invStd[ch], a), n.Storage))));
        return k.BuildKernel($"batch_norm_{n.Tag}_input_gradient{target.Suffix}_{channels}x{pixels}");
    }
}
