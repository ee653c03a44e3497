using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;
using static TinyOdl.Kernels.Lowering.WindowLoops;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Max and average pooling (global average pooling is a window over the whole plane). Only taps inside the input
/// take part; the average divides once, in the accumulation type, by the number of taps (inside ones, or the kernel
/// area when count_include_pad).
/// </summary>
internal static class PoolLowering
{
    private static string Name(PoolKind kind, bool countIncludePad) =>
        kind == PoolKind.Max ? "max_pool" : countIncludePad ? "average_pool_include_pad" : "average_pool";

    /// <summary>The divisor of an average window, as a value of type <paramref name="a"/>.</summary>
    private static Expr Divisor(Window2d w, bool countIncludePad, (Expr Lo, Expr Hi) rows, (Expr Lo, Expr Hi) cols, ScalarType a) =>
        countIncludePad || !w.HasPadding
            ? Const(w.KernelArea, a)
            : Cast(ToFloat((rows.Hi - rows.Lo) * (cols.Hi - cols.Lo)), a);

    /// <summary>
    /// Max: the first tap inside the window, replaced by every later tap greater than it (so ties keep the first and a
    /// NaN never wins). Average: sum of the taps (unfused adds from +0), divided by the divisor.
    /// </summary>
    public static Kernel Forward(int channels, Window2d w, PoolKind kind, bool countIncludePad, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", n.Storage, channels * w.InputPixels);
        var y = k.Output("y", n.Storage, channels * w.Pixels);
        var a = n.Accumulate;
        k.For("ch", 0, channels, target.Vector, ch =>
        k.For("oh", 0, w.OutHeight, oh =>
        {
            var rows = RowTaps(k, w, oh);
            k.For("ow", 0, w.OutWidth, ow =>
            {
                var cols = ColumnTaps(k, w, ow);
                Expr Tap(Expr r, Expr c) => x[ch * w.InputPixels + InputPixel(w, oh, ow, r, c)];
                if (kind == PoolKind.Max)
                {
                    var best = k.Declare("best", Tap(rows.Item1, cols.Item1));
                    k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c =>
                        k.Assign(best, Select(Gt(Tap(r, c), Ref(best)), Tap(r, c), Ref(best)))));
                    k.Store(y, ch * w.Pixels + oh * w.OutWidth + ow, Ref(best));
                }
                else
                {
                    var sum = k.Declare("sum", Const(0f, a));
                    k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c =>
                        k.Assign(sum, Ref(sum) + Cast(Tap(r, c), a))));
                    k.Store(y, ch * w.Pixels + oh * w.OutWidth + ow, Cast(Ref(sum) / Divisor(w, countIncludePad, rows, cols, a), n.Storage));
                }
            });
        }));
        return k.BuildKernel($"{Name(kind, countIncludePad)}_{n.Tag}_forward{target.Suffix}_{channels}x{w.Tag}");
    }

    /// <summary>
    /// Max: dY goes to the tap the forward pass chose (found again from X). Average: dY / divisor, rounded to storage,
    /// goes to every tap. Contributions add up in the storage type in the order of the outputs (windows may overlap).
    /// Max pooling runs scalar: the winner's position differs between lanes.
    /// </summary>
    public static Kernel Backward(int channels, Window2d w, PoolKind kind, bool countIncludePad, Numerics n, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = kind == PoolKind.Max ? k.Input("x", n.Storage, channels * w.InputPixels) : null;
        var dy = k.Input("dy", n.Storage, channels * w.Pixels);
        var dx = k.Output("dx", n.Storage, channels * w.InputPixels);
        var a = n.Accumulate;
        bool lanes = target.Vector && kind != PoolKind.Max;
        k.For("i", 0, channels * w.InputPixels, target.Vector, i => k.Store(dx, i, Const(0f, n.Storage)));
        k.For("ch", 0, channels, lanes, ch =>
        k.For("oh", 0, w.OutHeight, oh =>
        {
            var rows = RowTaps(k, w, oh);
            k.For("ow", 0, w.OutWidth, ow =>
            {
                var cols = ColumnTaps(k, w, ow);
                Expr At(Expr r, Expr c) => ch * w.InputPixels + InputPixel(w, oh, ow, r, c);
                var g = dy[ch * w.Pixels + oh * w.OutWidth + ow];
                if (x is not null)
                {
                    var best = k.Declare("best", x[At(rows.Item1, cols.Item1)]);
                    var winner = k.Declare("winner", At(rows.Item1, cols.Item1));
                    k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c =>
                    {
                        k.Assign(winner, Select(Gt(x[At(r, c)], Ref(best)), At(r, c), Ref(winner)));
                        k.Assign(best, Select(Gt(x[At(r, c)], Ref(best)), x[At(r, c)], Ref(best)));
                    }));
                    k.Store(dx, Ref(winner), dx[Ref(winner)] + g);
                }
                else
                {
                    var share = k.Declare("share", Cast(Cast(g, a) / Divisor(w, countIncludePad, rows, cols, a), n.Storage));
                    k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c =>
                        k.Store(dx, At(r, c), dx[At(r, c)] + Ref(share))));
                }
            });
        }));
        return k.BuildKernel($"{Name(kind, countIncludePad)}_{n.Tag}_backward{target.Suffix}_{channels}x{w.Tag}");
    }
}
