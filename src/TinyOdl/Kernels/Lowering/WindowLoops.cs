using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Loops over sliding windows without per-tap bounds tests: the indices whose position falls inside the input form
/// one contiguous range [lo, hi), computed once per loop from integer min/max, and a loop is split into the padding
/// before, the inside and the padding after. Zero-padded axes get no bounds code at all.
/// </summary>
internal static class WindowLoops
{
    public static Expr Max(Expr a, Expr b) => a is IntConst x && b is IntConst y ? Math.Max(x.Value, y.Value) : Select(Gt(a, b), a, b);
    public static Expr Min(Expr a, Expr b) => a is IntConst x && b is IntConst y ? Math.Min(x.Value, y.Value) : Select(Lt(a, b), a, b);

    /// <summary>ceil(a / d) for a &gt;= 0.</summary>
    private static Expr CeilDiv(Expr a, int d) => d == 1 ? a : a is IntConst c ? (c.Value + d - 1) / d : (a + (d - 1)) / new IntConst(d);

    /// <summary>
    /// For t in [0, count) at position start + t * stride, the range [lo, hi) of t with 0 &lt;= position &lt; extent,
    /// declared as locals. <paramref name="before"/> / <paramref name="after"/>: whether the position can fall below 0 /
    /// reach extent at all (padding on that side); without, that bound is the loop's own.
    /// </summary>
    public static (Expr Lo, Expr Hi) Inside(KernelBuilder k, string name, Expr start, int stride, int extent, int count, bool before, bool after)
    {
        Expr lo = 0, hi = count;
        if (!before && !after) return (lo, hi);
        // One short declaration per step, so the generated code reads as the computation it is.
        var origin = start is IntConst ? start : Ref(k.Declare(name + "_origin", start));
        if (before)
        {
            var skip = Ref(k.Declare(name + "_skip", Max(0 - origin, 0)));
            lo = Ref(k.Declare(name + "_lo", Min(CeilDiv(skip, stride), count)));
        }
        if (after)
        {
            var room = Ref(k.Declare(name + "_room", Max(extent - origin, 0)));
            var end = Ref(k.Declare(name + "_end", Min(CeilDiv(room, stride), count)));
            hi = Ref(k.Declare(name + "_hi", Max(end, lo)));
        }
        return (lo, hi);
    }


    /// <summary>for t in [0, count): body(t, inside), as up to three loops (padding, inside, padding) in ascending t.</summary>
    public static void Split(KernelBuilder k, string name, int count, (Expr Lo, Expr Hi) inside, bool lanes, Action<Expr, bool> body)
    {
        var (lo, hi) = inside;
        if (lo is not IntConst { Value: 0 }) k.For(name, 0, lo, lanes, t => body(t, false));
        k.For(name, lo, hi, lanes, t => body(t, true));
        if (hi is not IntConst c || c.Value != count) k.For(name, hi, count, lanes, t => body(t, false));
    }

    /// <summary>Every tap (r, c) of one output pixel's window, row-major: body(r, c, inside) with padding taps split off.</summary>
    public static void Taps(KernelBuilder k, Window2d w, (Expr, Expr) rows, (Expr, Expr) cols, Action<Expr, Expr, bool> body) =>
        Split(k, "r", w.KernelH, rows, false, (r, rowInside) =>
        {
            if (!rowInside) { k.For("c", 0, w.KernelW, c => body(r, c, false)); return; }
            Split(k, "c", w.KernelW, cols, false, (c, inside) => body(r, c, inside));
        });

    /// <summary>The kernel rows of output row <paramref name="oh"/> that fall inside the input.</summary>
    public static (Expr, Expr) RowTaps(KernelBuilder k, Window2d w, Expr oh) =>
        Inside(k, "r", oh * w.StrideH - w.PadTop, 1, w.Height, w.KernelH, w.PadTop > 0, w.PadBottom > 0);

    public static (Expr, Expr) ColumnTaps(KernelBuilder k, Window2d w, Expr ow) =>
        Inside(k, "c", ow * w.StrideW - w.PadLeft, 1, w.Width, w.KernelW, w.PadLeft > 0, w.PadRight > 0);

    /// <summary>The output rows whose kernel row <paramref name="r"/> falls inside the input.</summary>
    public static (Expr, Expr) OutputRows(KernelBuilder k, Window2d w, Expr r) =>
        Inside(k, "oh", r - w.PadTop, w.StrideH, w.Height, w.OutHeight, w.PadTop > 0, w.PadBottom > 0);

    public static (Expr, Expr) OutputColumns(KernelBuilder k, Window2d w, Expr c) =>
        Inside(k, "ow", c - w.PadLeft, w.StrideW, w.Width, w.OutWidth, w.PadLeft > 0, w.PadRight > 0);

    /// <summary>Input pixel (row-major within a channel plane) read by output (oh, ow) at tap (r, c); only meaningful inside.</summary>
    public static Expr InputPixel(Window2d w, Expr oh, Expr ow, Expr r, Expr c) =>
        (oh * w.StrideH - w.PadTop + r) * w.Width + ow * w.StrideW - w.PadLeft + c;
}
