using System.Globalization;
using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;
using static TinyOdl.Kernels.Lowering.WindowLoops;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Binary layers (docs/BINARY.md). Signs are packed 32 channels per word, LSB first, bit 1 for a negative value
/// (so +0, -0 and NaN read as +1) and zero tail bits. The forward pass is integer XNOR-popcount arithmetic, exact
/// in every backend; its one float step is the output transform y = alpha * (taps - 2 * popcount) (+ bias), one
/// rounding in the accumulation type, then one to storage. The backward passes are the ordinary convolution
/// kernels on the binarized tensors, wrapped by the straight-through estimators written here.
/// </summary>
internal static class BinaryLowering
{
    /// <summary>
    /// alpha[o] = (sum over taps ascending of |W[o]|) / taps in binary32 under every policy (a mean of up to thousands
    /// of terms: a binary16 running sum would lose most of its bits), rounded once to storage; and the weight signs
    /// packed [o][kh][kw][word] (the group's input channels along the word).
    /// </summary>
    public static Kernel BinarizeWeights(ConvGeometry g, Numerics n)
    {
        var w2 = g.Window;
        const ScalarType a = ScalarType.F32;
        var k = new KernelBuilder();
        var w = k.Input("w", n.Storage, g.OutChannels * g.Taps);
        var bits = k.Output("bits", ScalarType.I32, g.OutChannels * w2.KernelArea * g.SignWords);
        var alpha = k.Output("alpha", n.Storage, g.OutChannels);
        k.For("co", 0, g.OutChannels, co =>
        {
            var sum = k.Declare("sum", Const(0f, a));
            k.For("t", 0, g.Taps, t =>
            {
                var v = k.Declare("v", Cast(w[co * g.Taps + t], a));
                k.Assign(sum, Ref(sum) + Select(Lt(Ref(v), Const(0f, a)), Const(0f, a) - Ref(v), Ref(v)));
            });
            k.Store(alpha, co, Cast(Ref(sum) / Const(g.Taps, a), n.Storage));
            k.For("r", 0, w2.KernelH, r => k.For("c", 0, w2.KernelW, c =>
                PackWords(k, g.InPerGroup, ci => w[((co * g.InPerGroup + ci) * w2.KernelH + r) * w2.KernelW + c],
                    (word, value) => k.Store(bits, ((co * w2.KernelH + r) * w2.KernelW + c) * g.SignWords + word, value))));
        });
        return k.BuildKernel($"binarize_weights_{n.Tag}_{g.OutChannels}x{g.InPerGroup}x{w2.KernelH}x{w2.KernelW}");
    }

    /// <summary>The signs of a CHW activation packed [pixel][group][word].</summary>
    public static Kernel PackSigns(ConvGeometry g, ScalarType storage)
    {
        int pixels = g.Window.InputPixels;
        var k = new KernelBuilder();
        var x = k.Input("x", storage, g.InChannels * pixels);
        var bits = k.Output("bits", ScalarType.I32, pixels * g.Groups * g.SignWords);
        k.For("p", 0, pixels, p => k.ForCount("g", g.Groups, false, gi =>
            PackWords(k, g.InPerGroup, ci => x[(gi * g.InPerGroup + ci) * pixels + p],
                (word, value) => k.Store(bits, (p * g.Groups + gi) * g.SignWords + word, value))));
        return k.BuildKernel($"pack_signs_{storage.Tag()}_{g.InChannels}x{g.Window.Height}x{g.Window.Width}{(g.Groups > 1 ? $"_g{g.Groups}" : "")}");
    }

    /// <summary>
    /// y[o] = alpha[o] * (taps - 2 * sum popcount(x XOR w)) (+ b[o]). Zero padding: only the taps inside the input
    /// count (taps = inside taps * channels); one padding: a padded tap reads +1, i.e. popcount(w).
    /// </summary>
    public static Kernel XnorForward(ConvGeometry g, bool bias, BinaryPadding padding, Numerics n)
    {
        var w2 = g.Window;
        var a = n.Accumulate;
        int words = g.SignWords;
        var k = new KernelBuilder();
        var x = k.Input("x_bits", ScalarType.I32, w2.InputPixels * g.Groups * words);
        var w = k.Input("w_bits", ScalarType.I32, g.OutChannels * w2.KernelArea * words);
        var alpha = k.Input("alpha", n.Storage, g.OutChannels);
        var b = bias ? k.Input("b", n.Storage, g.OutChannels) : null;
        var y = k.Output("y", n.Storage, g.OutChannels * g.Pixels);
        bool one = padding == BinaryPadding.One && w2.HasPadding;
        k.ForCount("g", g.Groups, false, gi => k.ForCount("m", g.OutPerGroup, false, m =>
        {
            var co = gi * g.OutPerGroup + m;
            var scale = Ref(k.Declare("scale", Cast(alpha[co], a)));
            Expr WordOf(Expr r, Expr c, Expr word) => w[((co * w2.KernelH + r) * w2.KernelW + c) * words + word];
            Expr XorWord(Expr oh, Expr ow, Expr r, Expr c, Expr word) => Xor(x[(InputPixel(w2, oh, ow, r, c) * g.Groups + gi) * words + word], WordOf(r, c, word));
            k.For("oh", 0, w2.OutHeight, oh =>
            {
                var rows = RowTaps(k, w2, oh);
                k.For("ow", 0, w2.OutWidth, ow =>
                {
                    var cols = ColumnTaps(k, w2, ow);
                    var acc = k.Declare("acc", 0);
                    void Count(Expr bitsWord) => k.Assign(acc, Ref(acc) + Popcount(bitsWord));
                    Expr taps;
                    if (one)
                    {
                        Taps(k, w2, rows, cols, (r, c, inside) =>
                            k.ForCount("word", words, false, word => Count(inside ? XorWord(oh, ow, r, c, word) : WordOf(r, c, word))));
                        taps = g.Taps;
                    }
                    else
                    {
                        k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c =>
                            k.ForCount("word", words, false, word => Count(XorWord(oh, ow, r, c, word)))));
                        taps = (rows.Item2 - rows.Item1) * (cols.Item2 - cols.Item1) * g.InPerGroup;
                    }
                    k.Store(y, co * g.Pixels + oh * w2.OutWidth + ow, OutputValue(scale, taps - Ref(acc) * 2, b is null ? null : b[co], n));
                });
            });
        }));
        return k.BuildKernel($"{ForwardName(g, n)}_xnor_{Shape(g)}{(one ? "_one_padding" : "")}{(bias ? "" : "_nobias")}");
    }

    /// <summary>
    /// The one float step of a binary layer's forward, shared by the plain and the MST kernels: alpha * dot (+ b), in
    /// the accumulation type (one rounding, or one fused multiply-add with the bias), rounded once to storage.
    /// </summary>
    internal static Expr OutputValue(Expr alpha, Expr dot, Expr? bias, Numerics n)
    {
        var a = n.Accumulate;
        var value = Cast(ToFloat(dot), a);
        return Cast(bias is null ? Cast(alpha, a) * value : Fma(Cast(alpha, a), value, Cast(bias, a)), n.Storage);
    }

    /// <summary>A binary linear layer is the 1x1 convolution of a 1x1 image; its kernels are named as the layer.</summary>
    private static bool IsLinear(ConvGeometry g) => g.Groups == 1 && g.Window is { Height: 1, Width: 1, KernelH: 1, KernelW: 1 };

    /// <summary>binary_conv2d_f32_forward or binary_linear_f32_forward: the layer's op name, dtype tag and pass.</summary>
    internal static string ForwardName(ConvGeometry g, Numerics n) => $"{(IsLinear(g) ? "binary_linear" : "binary_conv2d")}_{n.Tag}_forward";

    /// <summary>The shape fragment of a kernel name: in x out for a linear layer, the convolution's tag otherwise.</summary>
    internal static string Shape(ConvGeometry g) => IsLinear(g) ? $"{g.InChannels}x{g.OutChannels}" : g.Tag;

    /// <summary>sign(x) as +-1 (+1 for x &gt;= 0, -0 and NaN), optionally inside a frame of +1 (the one-padding border).</summary>
    public static Kernel Signs(int channels, Window2d input, Window2d? frame, ScalarType storage, KernelTarget target)
    {
        int h = input.Height, w = input.Width;
        int fh = frame is null ? h : h + frame.PadTop + frame.PadBottom, fw = frame is null ? w : w + frame.PadLeft + frame.PadRight;
        var k = new KernelBuilder();
        var x = k.Input("x", storage, channels * h * w);
        var y = k.Output("y", storage, channels * fh * fw);
        Expr Sign(Expr v) => Select(Lt(v, Const(0f, storage)), Const(-1f, storage), Const(1f, storage));
        if (frame is null)
        {
            k.For("i", 0, channels * h * w, target.Vector, i => k.Store(y, i, Sign(x[i])));
            return k.BuildKernel($"sign_{storage.Tag()}{target.Suffix}_{channels * h * w}");
        }
        k.For("i", 0, channels * fh * fw, target.Vector, i => k.Store(y, i, Const(1f, storage)));
        k.For("ch", 0, channels, ch => k.For("row", 0, h, row => k.For("col", 0, w, target.Vector, col =>
            k.Store(y, (ch * fh + row + frame.PadTop) * fw + col + frame.PadLeft, Sign(x[(ch * h + row) * w + col])))));
        return k.BuildKernel($"sign_{storage.Tag()}_framed{target.Suffix}_{channels}x{h}x{w}_p{frame.PadTop}_{frame.PadLeft}_{frame.PadBottom}_{frame.PadRight}");
    }

    /// <summary>y[o][t] = alpha[o] * sign(w[o][t]), exactly +-alpha.</summary>
    public static Kernel ScaledSigns(int outChannels, int perChannel, ScalarType storage, KernelTarget target)
    {
        var k = new KernelBuilder();
        var w = k.Input("w", storage, outChannels * perChannel);
        var alpha = k.Input("alpha", storage, outChannels);
        var y = k.Output("y", storage, outChannels * perChannel);
        k.For("co", 0, outChannels, co =>
        {
            var s = Ref(k.Declare("s", alpha[co]));
            k.For("t", 0, perChannel, target.Vector, t =>
                k.Store(y, co * perChannel + t, Select(Lt(w[co * perChannel + t], Const(0f, storage)), Const(0f, storage) - s, s)));
        });
        return k.BuildKernel($"scaled_sign_{storage.Tag()}{target.Suffix}_{outChannels}x{perChannel}");
    }

    /// <summary>dw[o][t] = alpha[o] * dwb[o][t] (one product in the accumulation type) where |w| &lt;= 1, else 0.</summary>
    public static Kernel WeightGradient(int outChannels, int perChannel, Numerics n, KernelTarget target)
    {
        var a = n.Accumulate;
        var k = new KernelBuilder();
        var dwb = k.Input("dwb", n.Storage, outChannels * perChannel);
        var w = k.Input("w", n.Storage, outChannels * perChannel);
        var alpha = k.Input("alpha", n.Storage, outChannels);
        var dw = k.Output("dw", n.Storage, outChannels * perChannel);
        k.For("co", 0, outChannels, co =>
        {
            var s = Ref(k.Declare("s", Cast(alpha[co], a)));
            k.For("t", 0, perChannel, target.Vector, t =>
            {
                var i = co * perChannel + t;
                k.Store(dw, i, InUnitInterval(w[i], Cast(s * Cast(dwb[i], a), n.Storage)));
            });
        });
        return k.BuildKernel($"binary_weight_gradient_{n.Tag}{target.Suffix}_{outChannels}x{perChannel}");
    }

    /// <summary>Straight-through estimator of sign: dx = dy where -1 &lt;= x &lt;= 1, else +0 (NaN included).</summary>
    public static Kernel SignGradient(int count, ScalarType storage, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", storage, count);
        var dy = k.Input("dy", storage, count);
        var dx = k.Output("dx", storage, count);
        k.For("i", 0, count, target.Vector, i => k.Store(dx, i, InUnitInterval(x[i], dy[i])));
        return k.BuildKernel($"sign_gradient_{storage.Tag()}{target.Suffix}_{count.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>value where -1 &lt;= v &lt;= 1, else +0 (of value's type).</summary>
    private static Expr InUnitInterval(Expr v, Expr value) =>
        Select(Ge(v, Const(-1f, v.Type)), Select(Le(v, Const(1f, v.Type)), value, Const(0f, value.Type)), Const(0f, value.Type));

    /// <summary>
    /// Packs the signs of count values (value(i) for channel i) into ceil(count / 32) words, LSB first, bit 1 for a
    /// negative value; store(word index, word) writes each. The last word's unused bits stay 0.
    /// </summary>
    private static void PackWords(KernelBuilder k, int count, Func<Expr, Expr> value, Action<Expr, Expr> store)
    {
        void Word(Expr index, int bits)
        {
            var word = k.Declare("word", 0);
            k.For("j", 0, bits, j =>
            {
                var v = value(index * 32 + j);
                k.Assign(word, Or(Ref(word), Shl(Select(Lt(v, Const(0f, v.Type)), 1, 0), j)));
            });
            store(index, Ref(word));
        }
        if (count >= 32) k.ForCount("word", count / 32, false, index => Word(index, 32));
        if (count % 32 != 0) Word(count / 32, count % 32);
    }
}
