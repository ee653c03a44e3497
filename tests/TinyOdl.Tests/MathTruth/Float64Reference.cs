namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// The mathematical definition of every op, in float64, as plain loops. Written from the formulas only
/// (y = W x + b with W [out][in] row-major, ReLU, MSE, softmax cross-entropy, PyTorch SGD); it shares no code
/// with the compiler, so agreement with the evaluator means the lowering computes the right maths.
/// </summary>
internal static class Float64Reference
{
    /// <summary>y[o] = b[o] + sum_i W[o*in + i] x[i].</summary>
    public static double[] Linear(double[] w, double[]? b, double[] x, int outF)
    {
        int inF = x.Length;
        if (w.Length != outF * inF) throw new ArgumentException("weight size");
        var y = new double[outF];
        for (int o = 0; o < outF; o++)
        {
            double s = b is null ? 0.0 : b[o];
            for (int i = 0; i < inF; i++) s += w[o * inF + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    /// <summary>sum_i |W[o][i] x[i]| + |b[o]|: the scale a float32 dot product's rounding error is proportional to.</summary>
    public static double[] LinearMagnitude(double[] w, double[]? b, double[] x, int outF)
    {
        int inF = x.Length;
        var m = new double[outF];
        for (int o = 0; o < outF; o++)
        {
            double s = b is null ? 0.0 : Math.Abs(b[o]);
            for (int i = 0; i < inF; i++) s += Math.Abs(w[o * inF + i] * x[i]);
            m[o] = s;
        }
        return m;
    }

    /// <summary>dL/dx[i] = sum_o W[o][i] dL/dy[o].</summary>
    public static double[] LinearInputGradient(double[] w, double[] dy, int inF)
    {
        int outF = dy.Length;
        var dx = new double[inF];
        for (int i = 0; i < inF; i++)
        {
            double s = 0.0;
            for (int o = 0; o < outF; o++) s += w[o * inF + i] * dy[o];
            dx[i] = s;
        }
        return dx;
    }

    /// <summary>dL/dW[o][i] = dL/dy[o] x[i].</summary>
    public static double[] LinearWeightGradient(double[] dy, double[] x)
    {
        var dw = new double[dy.Length * x.Length];
        for (int o = 0; o < dy.Length; o++)
            for (int i = 0; i < x.Length; i++)
                dw[o * x.Length + i] = dy[o] * x[i];
        return dw;
    }

    public static double[] Relu(double[] x)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : 0.0;
        return y;
    }

    public static double[] ReluBackward(double[] x, double[] dy)
    {
        var dx = new double[x.Length];
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? dy[i] : 0.0;
        return dx;
    }

    /// <summary>L = (1/n) sum_i (y_i - t_i)^2.</summary>
    public static double Mse(double[] y, double[] t)
    {
        double s = 0.0;
        for (int i = 0; i < y.Length; i++) s += (y[i] - t[i]) * (y[i] - t[i]);
        return s / y.Length;
    }

    /// <summary>dL/dy_i = 2 (y_i - t_i) / n.</summary>
    public static double[] MseGradient(double[] y, double[] t)
    {
        var g = new double[y.Length];
        for (int i = 0; i < y.Length; i++) g[i] = 2.0 * (y[i] - t[i]) / y.Length;
        return g;
    }

    /// <summary>log sum_i exp(y_i), computed stably (max subtracted).</summary>
    public static double LogSumExp(double[] y)
    {
        double m = double.NegativeInfinity;
        foreach (var v in y) m = Math.Max(m, v);
        double s = 0.0;
        foreach (var v in y) s += Math.Exp(v - m);
        return m + Math.Log(s);
    }

    public static double[] Softmax(double[] y)
    {
        double lse = LogSumExp(y);
        var p = new double[y.Length];
        for (int i = 0; i < y.Length; i++) p[i] = Math.Exp(y[i] - lse);
        return p;
    }

    /// <summary>L = -sum_i t_i log softmax(y)_i = sum_i t_i (logsumexp(y) - y_i).</summary>
    public static double SoftmaxCrossEntropy(double[] y, double[] t)
    {
        double lse = LogSumExp(y);
        double l = 0.0;
        for (int i = 0; i < y.Length; i++) l += t[i] * (lse - y[i]);
        return l;
    }

    /// <summary>
    /// dL/dy_j = -t_j + sum_i t_i softmax_j = softmax_j * (sum_i t_i) - t_j
    /// (derived by hand from the loss; reduces to softmax - t when t sums to 1).
    /// </summary>
    public static double[] SoftmaxCrossEntropyGradient(double[] y, double[] t)
    {
        var p = Softmax(y);
        double tsum = 0.0;
        foreach (var v in t) tsum += v;
        var g = new double[y.Length];
        for (int j = 0; j < y.Length; j++) g[j] = p[j] * tsum - t[j];
        return g;
    }

    /// <summary>PyTorch SGD, in place: g = grad + wd*w; v = mu*v + g; w = w - lr*v (w = w - lr*g without momentum).</summary>
    public static void Sgd(double[] w, double[] grad, double[]? v, double lr, double mu, double wd)
    {
        for (int i = 0; i < w.Length; i++)
        {
            double g = grad[i] + wd * w[i];
            if (v is not null)
            {
                v[i] = mu * v[i] + g;
                g = v[i];
            }
            w[i] -= lr * g;
        }
    }
}
