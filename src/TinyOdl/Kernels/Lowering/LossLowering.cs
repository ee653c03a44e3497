using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>Loss kernels: each writes the scalar loss and the gradient with respect to the prediction.</summary>
internal static class LossLowering
{
    /// <summary>
    /// loss = (sum of d*d, fused, ascending) / n with d = y - t; dy = (d + d) / n.
    /// </summary>
    public static Kernel MeanSquaredError(int n)
    {
        var k = new KernelBuilder();
        var y = k.Input("y", ScalarType.F32, n);
        var t = k.Input("t", ScalarType.F32, n);
        var loss = k.Output("loss", ScalarType.F32, 1);
        var dy = k.Output("dy", ScalarType.F32, n);
        var sum = k.Declare("sum", F(0f));
        k.For("i", 0, n, i =>
        {
            var d = k.Declare("d", y[i] - t[i]);
            k.Assign(sum, Fma(Ref(d), Ref(d), Ref(sum)));
            k.Store(dy, i, (Ref(d) + Ref(d)) / F(n));
        });
        k.Store(loss, 0, Ref(sum) / F(n));
        return k.BuildKernel($"mse_loss_f32_{n}");
    }

    /// <summary>
    /// Softmax cross-entropy, stable form: m = max y; e_i = exp(y_i - m); s = sum e_i (ascending);
    /// loss = sum_i t_i (log s - (y_i - m)); dy_i = (e_i / s) * T - t_i with T = sum t_i (fused), which is
    /// softmax - t for a one-hot or probability target. exp and log are <see cref="MathLibrary"/>'s.
    /// </summary>
    public static Kernel SoftmaxCrossEntropy(int n)
    {
        var k = new KernelBuilder();
        var y = k.Input("y", ScalarType.F32, n);
        var t = k.Input("t", ScalarType.F32, n);
        var loss = k.Output("loss", ScalarType.F32, 1);
        var dy = k.Output("dy", ScalarType.F32, n);
        var m = k.Declare("m", y[0]);
        k.For("i", 1, n, i => k.Assign(m, Select(Gt(y[i], Ref(m)), y[i], Ref(m))));
        var s = k.Declare("s", F(0f));
        k.For("i", 0, n, i =>
        {
            var e = k.Declare("e", MathLibrary.Exp.Invoke(y[i] - Ref(m)));
            k.Store(dy, i, Ref(e));   // dy holds e_i until the sum is known
            k.Assign(s, Ref(s) + Ref(e));
        });
        var logS = k.Declare("log_s", MathLibrary.Log.Invoke(Ref(s)));
        var l = k.Declare("l", F(0f));
        var tsum = k.Declare("t_sum", F(0f));
        k.For("i", 0, n, i =>
        {
            k.Assign(l, Fma(t[i], Ref(logS) - (y[i] - Ref(m)), Ref(l)));
            k.Assign(tsum, Ref(tsum) + t[i]);
        });
        k.For("i", 0, n, i => k.Store(dy, i, Fma(dy[i] / Ref(s), Ref(tsum), F(0f) - t[i])));
        k.Store(loss, 0, Ref(l));
        return k.BuildKernel($"softmax_cross_entropy_f32_{n}");
    }
}
