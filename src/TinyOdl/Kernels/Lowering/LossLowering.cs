using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Loss kernels: each writes the scalar loss (f32) and the gradient with respect to the prediction. Whatever the
/// prediction's storage type, the arithmetic is f32 (exp and log in f16 would be too coarse); dy is rounded once
/// to the prediction's storage type.
/// </summary>
internal static class LossLowering
{
    /// <summary>loss = (sum of d*d, fused, ascending) / n with d = y - t; dy = (d + d) / n.</summary>
    /// <param name="scale">Static loss scale applied to dy (a power of two: exact).</param>
    public static Kernel MeanSquaredError(int n, ScalarType storage, float scale)
    {
        var k = new KernelBuilder();
        var y = k.Input("y", storage, n);
        var t = k.Input("t", ScalarType.F32, n);
        var loss = k.Output("loss", ScalarType.F32, 1);
        var dy = k.Output("dy", storage, n);
        var sum = k.Declare("sum", F(0f));
        k.For("i", 0, n, i =>
        {
            var d = k.Declare("d", Cast(y[i], ScalarType.F32) - t[i]);
            k.Assign(sum, Fma(Ref(d), Ref(d), Ref(sum)));
            k.Store(dy, i, Cast(Scaled((Ref(d) + Ref(d)) / F(n), scale), storage));
        });
        k.Store(loss, 0, Ref(sum) / F(n));
        return k.BuildKernel($"mse_loss_{storage.Tag()}{ScaleSuffix(scale)}_{n}");
    }

    /// <summary>
    /// Softmax cross-entropy, stable form: m = max y; e_i = exp(y_i - m); s = sum e_i (ascending);
    /// loss = sum_i t_i (log s - (y_i - m)); dy_i = (e_i / s) * T - t_i with T = sum t_i (fused), which is
    /// softmax - t for a one-hot or probability target. exp and log are <see cref="MathLibrary"/>'s.
    /// </summary>
    public static Kernel SoftmaxCrossEntropy(int n, ScalarType storage, float scale)
    {
        var k = new KernelBuilder();
        var y = k.Input("y", storage, n);
        var t = k.Input("t", ScalarType.F32, n);
        var loss = k.Output("loss", ScalarType.F32, 1);
        var dy = k.Output("dy", storage, n);
        var e = k.Output("e", ScalarType.F32, n);      // scratch: e_i until the sum is known
        Expr Y(Expr i) => Cast(y[i], ScalarType.F32);
        var m = k.Declare("m", Y(0));
        k.For("i", 1, n, i => k.Assign(m, Select(Gt(Y(i), Ref(m)), Y(i), Ref(m))));
        var s = k.Declare("s", F(0f));
        k.For("i", 0, n, i =>
        {
            k.Store(e, i, MathLibrary.Exp.Invoke(Y(i) - Ref(m)));
            k.Assign(s, Ref(s) + e[i]);
        });
        var logS = k.Declare("log_s", MathLibrary.Log.Invoke(Ref(s)));
        var l = k.Declare("l", F(0f));
        var tsum = k.Declare("t_sum", F(0f));
        k.For("i", 0, n, i =>
        {
            k.Assign(l, Fma(t[i], Ref(logS) - (Y(i) - Ref(m)), Ref(l)));
            k.Assign(tsum, Ref(tsum) + t[i]);
        });
        k.For("i", 0, n, i => k.Store(dy, i, Cast(Scaled(Fma(e[i] / Ref(s), Ref(tsum), F(0f) - t[i]), scale), storage)));
        k.Store(loss, 0, Ref(l));
        return k.BuildKernel($"softmax_cross_entropy_{storage.Tag()}{ScaleSuffix(scale)}_{n}");
    }

    private static Expr Scaled(Expr e, float scale) => scale == 1f ? e : e * F(scale);

    internal static string ScaleSuffix(float scale) => scale == 1f ? "" : $"_scale{(int)scale}";

    /// <summary>An optimizer's view of a gradient: the loss scale divided out (exact: the scale is a power of two), in type a.</summary>
    internal static Expr Unscaled(Expr grad, float scale, ScalarType a) => scale == 1f ? Cast(grad, a) : Cast(grad, a) * Const(1f / scale, a);
}
