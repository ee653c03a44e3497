using TinyOdl.Graph;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// The CNN ops in float64, as plain loops written from their definitions (PyTorch and ONNX semantics): CHW layout,
/// batch 1, cross-correlation with weight [out][in/groups][kh][kw], zero padding [top, left, bottom, right], output size
/// floor((n + pads - k) / s) + 1, padded positions never win a max and count in an average's divisor only with
/// count_include_pad; batch norm with frozen statistics, inv_std = 1 / sqrt(var + eps) in float64. Only the
/// <see cref="Window2d"/> record is shared with the compiler, as a plain description of the window.
/// With <c>magnitude</c>, the sums are of absolute values: the scale a rounding error is proportional to.
/// </summary>
internal static class Float64Cnn
{
    public static int OutHeight(Window2d w) => (w.Height + w.PadTop + w.PadBottom - w.KernelH) / w.StrideH + 1;
    public static int OutWidth(Window2d w) => (w.Width + w.PadLeft + w.PadRight - w.KernelW) / w.StrideW + 1;

    /// <summary>The pixel (row-major in a plane) output (oh, ow) reads through tap (r, c), or -1 on the padding.</summary>
    public static int Tap(Window2d w, int oh, int ow, int r, int c)
    {
        int ih = oh * w.StrideH - w.PadTop + r, iw = ow * w.StrideW - w.PadLeft + c;
        return ih < 0 || ih >= w.Height || iw < 0 || iw >= w.Width ? -1 : ih * w.Width + iw;
    }

    /// <summary>y[co][oh][ow] = b[co] + sum over ci of its group, r, c of W[co][ci][r][c] x[g*in/groups + ci][tap].</summary>
    public static double[] Conv2d(double[] x, int inChannels, Window2d w, double[] weight, double[]? bias, int outChannels, int groups,
        bool magnitude = false)
    {
        int oh = OutHeight(w), ow = OutWidth(w), inPer = inChannels / groups, outPer = outChannels / groups;
        int plane = w.Height * w.Width;
        if (x.Length != inChannels * plane || weight.Length != outChannels * inPer * w.KernelH * w.KernelW)
            throw new ArgumentException("conv2d sizes");
        var y = new double[outChannels * oh * ow];
        for (int co = 0; co < outChannels; co++)
        {
            int g = co / outPer;
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double s = bias is null ? 0.0 : magnitude ? Math.Abs(bias[co]) : bias[co];
                    for (int ci = 0; ci < inPer; ci++)
                        for (int r = 0; r < w.KernelH; r++)
                            for (int c = 0; c < w.KernelW; c++)
                            {
                                int at = Tap(w, i, j, r, c);
                                if (at < 0) continue;
                                double term = weight[((co * inPer + ci) * w.KernelH + r) * w.KernelW + c] * x[(g * inPer + ci) * plane + at];
                                s += magnitude ? Math.Abs(term) : term;
                            }
                    y[(co * oh + i) * ow + j] = s;
                }
        }
        return y;
    }

    /// <summary>Applies <paramref name="reduce"/> to the inside taps (taps[0..n)) of every window of every channel plane.</summary>
    private static double[] PerWindow(double[] x, int channels, Window2d w, Func<double[], int, double> reduce)
    {
        int oh = OutHeight(w), ow = OutWidth(w), plane = w.Height * w.Width;
        var y = new double[channels * oh * ow];
        var taps = new double[w.KernelH * w.KernelW];
        for (int ch = 0; ch < channels; ch++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int n = 0;
                    for (int r = 0; r < w.KernelH; r++)
                        for (int c = 0; c < w.KernelW; c++)
                            if (Tap(w, i, j, r, c) is var at and >= 0) taps[n++] = x[ch * plane + at];
                    y[(ch * oh + i) * ow + j] = reduce(taps, n);
                }
        return y;
    }

    public static double[] MaxPool(double[] x, int channels, Window2d w) => PerWindow(x, channels, w, (taps, n) => taps.Take(n).Max());

    /// <summary>
    /// The smallest gap between a window's largest and second largest tap over all windows (+inf when every window has
    /// one tap): how far the input is from a point where max pooling is not differentiable. With
    /// <paramref name="zeroTiesAreFlat"/>, windows whose two largest taps are exactly 0 do not count: after a ReLU whose
    /// inputs are all away from 0 they are all clamped inputs, and the loss does not depend on them.
    /// </summary>
    public static double MaxPoolMargin(double[] x, int channels, Window2d w, bool zeroTiesAreFlat = false) =>
        PerWindow(x, channels, w, (taps, n) =>
        {
            double first = double.NegativeInfinity, second = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
                if (taps[i] > first) (first, second) = (taps[i], first);
                else if (taps[i] > second) second = taps[i];
            return n < 2 || (zeroTiesAreFlat && first == 0 && second == 0) ? double.PositiveInfinity : first - second;
        }).Min();

    /// <summary>Mean of a window's inside taps; divided by the kernel area instead with count_include_pad.</summary>
    public static double[] AveragePool(double[] x, int channels, Window2d w, bool countIncludePad, bool magnitude = false) =>
        PerWindow(x, channels, w, (taps, n) =>
            taps.Take(n).Sum(v => magnitude ? Math.Abs(v) : v) / (countIncludePad ? w.KernelH * w.KernelW : n));

    /// <summary>[C, H, W] to [C, 1, 1]: each plane's mean.</summary>
    public static double[] GlobalAveragePool(double[] x, int channels, bool magnitude = false)
    {
        int plane = x.Length / channels;
        return Enumerable.Range(0, channels)
            .Select(ch => x.Skip(ch * plane).Take(plane).Sum(v => magnitude ? Math.Abs(v) : v) / plane).ToArray();
    }

    /// <summary>y = (x - mean) / sqrt(var + eps) * scale + shift per channel (axis 0).</summary>
    public static double[] BatchNorm(double[] x, int channels, double[] scale, double[] shift, double[] mean, double[] variance, double epsilon,
        bool magnitude = false)
    {
        int plane = x.Length / channels;
        var y = new double[x.Length];
        for (int ch = 0; ch < channels; ch++)
        {
            double invStd = 1.0 / Math.Sqrt(variance[ch] + epsilon);
            for (int p = 0; p < plane; p++)
            {
                double normalized = (x[ch * plane + p] - mean[ch]) * invStd;
                y[ch * plane + p] = magnitude ? Math.Abs(normalized * scale[ch]) + Math.Abs(shift[ch]) : normalized * scale[ch] + shift[ch];
            }
        }
        return y;
    }
}
