using TinyOdl.Graph;
using TinyOdl.Passes;
using static TinyOdl.Kernels.Ir;
using static TinyOdl.Kernels.Lowering.WindowLoops;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Convolution kernels, written once for every precision and for both algorithms (docs/NUMERICS.md, "Convolutions").
/// Zero padding is materialized in the arithmetic: every tap of a window is one fused multiply-add, a padded tap
/// multiplies by +0. So the direct loop nest and the im2col matrix product (whose column matrix holds those zeros)
/// perform the same operations in the same order, and the algorithm never changes bits.
/// Reduction orders: forward and weight gradient over taps (input channel, kernel row, kernel column) and over output
/// pixels (row-major), ascending, from the bias or +0; the input gradient over kernel taps, then output channels.
/// </summary>
internal static class ConvLowering
{
    /// <summary>
    /// Depthwise-like layers (more groups than outputs per group) run SIMD lanes across groups, others across the
    /// output channels of a group; both have affine (strided) memory accesses.
    /// </summary>
    private static bool LanesOverGroups(ConvGeometry g) => g.Groups > g.OutPerGroup;

    internal static string Algo(ConvAlgorithm a) => a.ToString().ToLowerInvariant();

    /// <summary>Output channels computed together (4 accumulators fit any register file).</summary>
    internal const int OutputBlock = 4;

    /// <summary>The matrix-product kernels' column matrix: the input itself for pointwise layers, else an im2col scratch filled here.</summary>
    private static BufferParam ColumnMatrix(KernelBuilder k, ConvGeometry g, BufferParam x, ConvAlgorithm algorithm, KernelTarget target)
    {
        if (algorithm != ConvAlgorithm.Im2col) return x;
        var columns = k.Output("columns", x.Element, (int)g.ColumnElements);
        FillColumns(k, g, x, columns, target);
        return columns;
    }

    /// <summary>Every group, and its output channels in register blocks: body(group, output channels of the block).</summary>
    private static void BlockedOutputChannels(KernelBuilder k, ConvGeometry g, Action<Expr, Expr[]> body) =>
        k.ForCount("g", g.Groups, false, gi =>
            k.ForBlocks("m", g.OutPerGroup, OutputBlock, ms => body(gi, ms.Select(m => gi * g.OutPerGroup + m).ToArray())));

    /// <summary>A group's output channels: one per SIMD lane when they are the lanes, else in register blocks.</summary>
    private static void OutputChannels(KernelBuilder k, int count, bool lanes, Action<Expr[]> body)
    {
        if (lanes) k.ForCount("m", count, true, m => body([m]));
        else k.ForBlocks("m", count, OutputBlock, body);
    }

    public static Kernel Forward(ConvGeometry g, bool bias, Numerics n, ConvAlgorithm algorithm, KernelTarget target)
    {
        var w2 = g.Window;
        var k = new KernelBuilder();
        var x = k.Input("x", n.Storage, g.InChannels * w2.InputPixels);
        var w = k.Input("w", n.Storage, g.OutChannels * g.Taps);
        var b = bias ? k.Input("b", n.Storage, g.OutChannels) : null;
        var y = k.Output("y", n.Storage, g.OutChannels * g.Pixels);
        var a = n.Accumulate;
        Expr Start(Expr co) => b is null ? Const(0f, a) : Cast(b[co], a);

        if (algorithm == ConvAlgorithm.Direct)
        {
            bool laneGroups = LanesOverGroups(g);
            k.ForCount("g", g.Groups, target.Vector && laneGroups, gi =>
            OutputChannels(k, g.OutPerGroup, target.Vector && !laneGroups, ms =>
            {
                var cos = ms.Select(m => gi * g.OutPerGroup + m).ToArray();
                k.For("oh", 0, w2.OutHeight, oh =>
                {
                    var rows = RowTaps(k, w2, oh);
                    k.For("ow", 0, w2.OutWidth, ow =>
                    {
                        var cols = ColumnTaps(k, w2, ow);
                        var accs = cos.Select(co => k.Declare("acc", Start(co))).ToArray();
                        k.ForCount("ci", g.InPerGroup, false, ci => Taps(k, w2, rows, cols, (r, c, inside) =>
                        {
                            var xv = inside ? Cast(x[(gi * g.InPerGroup + ci) * w2.InputPixels + InputPixel(w2, oh, ow, r, c)], a) : Const(0f, a);
                            if (inside && cos.Length > 1) xv = Ref(k.Declare("xv", xv));
                            for (int j = 0; j < cos.Length; j++)
                                k.Assign(accs[j], Fma(Cast(w[((cos[j] * g.InPerGroup + ci) * w2.KernelH + r) * w2.KernelW + c], a), xv, Ref(accs[j])));
                        }));
                        for (int j = 0; j < cos.Length; j++)
                            k.Store(y, cos[j] * g.Pixels + oh * w2.OutWidth + ow, Cast(Ref(accs[j]), n.Storage));
                    });
                });
            }));
        }
        else
        {
            var columns = ColumnMatrix(k, g, x, algorithm, target);
            // y[co][p] = sum over the group's K taps of w[co][kk] * columns[kk][p]; lanes over pixels (unit stride).
            // Register blocking: up to OutputBlock output channels per pass over the columns share each column load.
            // Every output keeps its own accumulator and reduction order, so blocking changes no bits.
            BlockedOutputChannels(k, g, (gi, cos) =>
            {
                k.For("p", 0, g.Pixels, target.Vector, p =>
                {
                    var accs = cos.Select(co => k.Declare("acc", Start(co))).ToArray();
                    k.For("kk", 0, g.Taps, kk =>
                    {
                        var column = k.Declare("column", columns[(gi * g.Taps + kk) * g.Pixels + p]);
                        for (int j = 0; j < cos.Length; j++)
                            k.Assign(accs[j], Fma(Cast(w[cos[j] * g.Taps + kk], a), Cast(Ref(column), a), Ref(accs[j])));
                    });
                    for (int j = 0; j < cos.Length; j++)
                        k.Store(y, cos[j] * g.Pixels + p, Cast(Ref(accs[j]), n.Storage));
                });
            });
        }
        return k.BuildKernel($"conv2d_{n.Tag}_forward_{Algo(algorithm)}{target.Suffix}_{g.Tag}{(bias ? "" : "_nobias")}");
    }

    /// <summary>dW[co][tap] = sum over output pixels p ascending of dY[co][p] * X at that tap (+0 on padding), fused, from +0.</summary>
    public static Kernel WeightGradient(ConvGeometry g, Numerics n, ConvAlgorithm algorithm, KernelTarget target)
    {
        var w2 = g.Window;
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, g.OutChannels * g.Pixels);
        var x = k.Input("x", n.Storage, g.InChannels * w2.InputPixels);
        var dw = k.Output("dw", n.Storage, g.OutChannels * g.Taps);
        var a = n.Accumulate;

        if (algorithm == ConvAlgorithm.Direct)
        {
            bool laneGroups = LanesOverGroups(g);
            k.ForCount("g", g.Groups, target.Vector && laneGroups, gi =>
            k.ForCount("m", g.OutPerGroup, target.Vector && !laneGroups, m =>
            {
                var co = gi * g.OutPerGroup + m;
                k.ForCount("ci", g.InPerGroup, false, ci =>
                k.For("r", 0, w2.KernelH, r =>
                {
                    var outRows = OutputRows(k, w2, r);
                    k.For("c", 0, w2.KernelW, c =>
                    {
                        var outCols = OutputColumns(k, w2, c);
                        var acc = k.Declare("acc", Const(0f, a));
                        Split(k, "oh", w2.OutHeight, outRows, false, (oh, rowInside) =>
                        {
                            if (!rowInside) { k.For("ow", 0, w2.OutWidth, ow => k.Assign(acc, Fma(Cast(dy[co * g.Pixels + oh * w2.OutWidth + ow], a), Const(0f, a), Ref(acc)))); return; }
                            Split(k, "ow", w2.OutWidth, outCols, false, (ow, inside) =>
                            {
                                var xv = inside ? Cast(x[(gi * g.InPerGroup + ci) * w2.InputPixels + InputPixel(w2, oh, ow, r, c)], a) : Const(0f, a);
                                k.Assign(acc, Fma(Cast(dy[co * g.Pixels + oh * w2.OutWidth + ow], a), xv, Ref(acc)));
                            });
                        });
                        k.Store(dw, ((co * g.InPerGroup + ci) * w2.KernelH + r) * w2.KernelW + c, Cast(Ref(acc), n.Storage));
                    });
                }));
            }));
        }
        else
        {
            var columns = ColumnMatrix(k, g, x, algorithm, target);
            // Lanes over the taps: the columns are read with a stride of one row (P elements).
            // Blocked over output channels like the forward product: each column load serves several weights' sums.
            BlockedOutputChannels(k, g, (gi, cos) =>
            {
                k.For("kk", 0, g.Taps, target.Vector, kk =>
                {
                    var accs = cos.Select(_ => k.Declare("acc", Const(0f, a))).ToArray();
                    k.For("p", 0, g.Pixels, p =>
                    {
                        var column = k.Declare("column", columns[(gi * g.Taps + kk) * g.Pixels + p]);
                        for (int j = 0; j < cos.Length; j++)
                            k.Assign(accs[j], Fma(Cast(dy[cos[j] * g.Pixels + p], a), Cast(Ref(column), a), Ref(accs[j])));
                    });
                    for (int j = 0; j < cos.Length; j++)
                        k.Store(dw, cos[j] * g.Taps + kk, Cast(Ref(accs[j]), n.Storage));
                });
            });
        }
        return k.BuildKernel($"conv2d_{n.Tag}_weight_gradient_{Algo(algorithm)}{target.Suffix}_{g.Tag}");
    }

    /// <summary>
    /// dX[ci][ih][iw] = sum over taps (r, c) ascending, then output channels ascending, of W * dY, fused in the
    /// accumulation type from +0 (positions of the padding receive nothing). The loop scatters: for each tap, the output
    /// pixels that read an input pixel through it add their contribution; SIMD lanes run across output columns.
    /// </summary>
    public static Kernel InputGradient(ConvGeometry g, Numerics n, KernelTarget target)
    {
        var w2 = g.Window;
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, g.OutChannels * g.Pixels);
        var w = k.Input("w", n.Storage, g.OutChannels * g.Taps);
        var dx = k.Output("dx", n.Storage, g.InChannels * w2.InputPixels);
        var a = n.Accumulate;
        var acc = a == n.Storage ? dx : k.Output("acc", a, g.InChannels * w2.InputPixels);

        k.For("i", 0, g.InChannels * w2.InputPixels, target.Vector, i => k.Store(acc, i, Const(0f, a)));
        k.ForCount("g", g.Groups, false, gi =>
        k.ForCount("ci", g.InPerGroup, false, ci =>
        k.For("r", 0, w2.KernelH, r =>
        {
            var (ohLo, ohHi) = OutputRows(k, w2, r);
            k.For("c", 0, w2.KernelW, c =>
            {
                var (owLo, owHi) = OutputColumns(k, w2, c);
                k.For("oh", ohLo, ohHi, oh =>
                k.For("ow", owLo, owHi, target.Vector, ow =>
                {
                    var at = (gi * g.InPerGroup + ci) * w2.InputPixels + InputPixel(w2, oh, ow, r, c);
                    var sum = k.Declare("sum", acc[at]);
                    k.ForCount("m", g.OutPerGroup, false, m =>
                    {
                        var co = gi * g.OutPerGroup + m;
                        k.Assign(sum, Fma(Cast(w[((co * g.InPerGroup + ci) * w2.KernelH + r) * w2.KernelW + c], a), Cast(dy[co * g.Pixels + oh * w2.OutWidth + ow], a), Ref(sum)));
                    });
                    k.Store(acc, at, Ref(sum));
                }));
            });
        })));
        if (acc != dx)
            k.For("i", 0, g.InChannels * w2.InputPixels, target.Vector, i => k.Store(dx, i, Cast(acc[i], n.Storage)));
        return k.BuildKernel($"conv2d_{n.Tag}_input_gradient{target.Suffix}_{g.Tag}");
    }

    /// <summary>db[c] = sum over pixels ascending of dY[c][p], in the accumulation type from +0 (unfused adds).</summary>
    public static Kernel ChannelSum(int channels, int pixels, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, channels * pixels);
        var db = k.Output("db", n.Storage, channels);
        k.For("ch", 0, channels, target.Vector, ch =>
        {
            var acc = k.Declare("acc", Const(0f, n.Accumulate));
            k.For("p", 0, pixels, p => k.Assign(acc, Ref(acc) + Cast(dy[ch * pixels + p], n.Accumulate)));
            k.Store(db, ch, Cast(Ref(acc), n.Storage));
        });
        return k.BuildKernel($"channel_sum_{n.Tag}{target.Suffix}_{channels}x{pixels}");
    }

    /// <summary>
    /// columns[(ci, r, c)][(oh, ow)] = the input pixel tap (r, c) of output (oh, ow) reads, or +0 on the padding: an exact
    /// copy, so the matrix product reads exactly what the direct loop nest does. The input starts at
    /// <paramref name="xStart"/> in <paramref name="x"/> (a block of a larger tensor; PhmLowering's factored kernels).
    /// </summary>
    internal static void FillColumns(KernelBuilder k, ConvGeometry g, BufferParam x, BufferParam columns, KernelTarget target, Expr? xStart = null)
    {
        var start = xStart ?? 0;
        var w2 = g.Window;
        var zero = Const(0f, x.Element);
        k.For("ci", 0, g.InChannels, ci =>
        k.For("r", 0, w2.KernelH, r =>
        {
            var outRows = OutputRows(k, w2, r);
            k.For("c", 0, w2.KernelW, c =>
            {
                var outCols = OutputColumns(k, w2, c);
                var row = ((ci * w2.KernelH + r) * w2.KernelW + c) * g.Pixels;
                Split(k, "oh", w2.OutHeight, outRows, false, (oh, rowInside) =>
                {
                    if (!rowInside) { k.For("ow", 0, w2.OutWidth, target.Vector, ow => k.Store(columns, row + oh * w2.OutWidth + ow, zero)); return; }
                    Split(k, "ow", w2.OutWidth, outCols, target.Vector, (ow, inside) =>
                        k.Store(columns, row + oh * w2.OutWidth + ow, inside ? x[start + ci * w2.InputPixels + InputPixel(w2, oh, ow, r, c)] : zero));
                });
            });
        }));
    }
}
