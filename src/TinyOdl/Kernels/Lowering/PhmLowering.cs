using TinyOdl.Graph;
using TinyOdl.Passes;
using static TinyOdl.Kernels.Ir;
using static TinyOdl.Kernels.Lowering.WindowLoops;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// PHM layers (docs/PHM.md), written once for linear and convolutional layers (a linear layer has one tap) and every
/// precision. Layouts: A [i][r][c], F [i][p][q][t], W [r P + p][c Q + q][t] (the ordinary layer's [out][in][kh][kw]).
/// Each sum is a chain of fused multiply-adds in the accumulation type, rounded once to storage.
/// </summary>
internal static class PhmLowering
{
    /// <summary>
    /// W = sum_i A_i (x) F_i. The chain starts from the first product itself, not from +0, so n = 1 gives
    /// W = A_0 * F_0, exactly F when A_0 = 1 (signed zeros included): the ordinary layer.
    /// </summary>
    public static Kernel BuildWeight(PhmShape s, Numerics n)
    {
        var acc = n.Accumulate;
        var k = new KernelBuilder();
        var a = k.Input("a", n.Storage, s.N * s.N * s.N);
        var f = k.Input("f", n.Storage, s.N * s.P * s.Q * s.KernelArea);
        var w = k.Output("w", n.Storage, s.WeightElements);
        Expr A(Expr i, Expr r, Expr c) => Cast(a[(i * s.N + r) * s.N + c], acc);
        Expr F(Expr i, Expr p, Expr q, Expr t) => Cast(f[((i * s.P + p) * s.Q + q) * s.KernelArea + t], acc);
        k.For("r", 0, s.N, r => k.For("p", 0, s.P, p => k.For("c", 0, s.N, c => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
        {
            var sum = k.Declare("sum", A(0, r, c) * F(0, p, q, t));
            if (s.N > 1) k.For("i", 1, s.N, i => k.Assign(sum, Fma(A(i, r, c), F(i, p, q, t), Ref(sum))));
            k.Store(w, ((r * s.P + p) * s.N * s.Q + c * s.Q + q) * s.KernelArea + t, Cast(Ref(sum), n.Storage));
        })))));
        return k.BuildKernel($"phm_build_weight_{n.Tag}_n{s.N}_{s.N * s.P}x{s.N * s.Q}{(s.KernelArea > 1 ? $"x{s.KernelArea}" : "")}");
    }

    /// <summary>
    /// dA (sums over p, q, t ascending) and dF (sums over r, c ascending) from G = dL/dW, each from +0. Buffers: g, then
    /// a (only for dF), f (only for dA), then da and df as requested: a frozen factor's kernel takes only what it reads.
    /// </summary>
    public static Kernel Gradient(PhmShape s, bool da, bool df, Numerics n)
    {
        var acc = n.Accumulate;
        var k = new KernelBuilder();
        var g = k.Input("g", n.Storage, s.WeightElements);
        var a = df ? k.Input("a", n.Storage, s.N * s.N * s.N) : null;
        var f = da ? k.Input("f", n.Storage, s.N * s.P * s.Q * s.KernelArea) : null;
        var dA = da ? k.Output("da", n.Storage, s.N * s.N * s.N) : null;
        var dF = df ? k.Output("df", n.Storage, s.N * s.P * s.Q * s.KernelArea) : null;
        Expr G(Expr r, Expr p, Expr c, Expr q, Expr t) => Cast(g[((r * s.P + p) * s.N * s.Q + c * s.Q + q) * s.KernelArea + t], acc);
        if (dA is not null)
            k.For("i", 0, s.N, i => k.For("r", 0, s.N, r => k.For("c", 0, s.N, c =>
            {
                var sum = k.Declare("sum", Const(0f, acc));
                k.For("p", 0, s.P, p => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
                    k.Assign(sum, Fma(G(r, p, c, q, t), Cast(f![((i * s.P + p) * s.Q + q) * s.KernelArea + t], acc), Ref(sum))))));
                k.Store(dA, (i * s.N + r) * s.N + c, Cast(Ref(sum), n.Storage));
            })));
        if (dF is not null)
            k.For("i", 0, s.N, i => k.For("p", 0, s.P, p => k.For("q", 0, s.Q, q => k.ForCount("t", s.KernelArea, false, t =>
            {
                var sum = k.Declare("sum", Const(0f, acc));
                k.For("r", 0, s.N, r => k.For("c", 0, s.N, c =>
                    k.Assign(sum, Fma(G(r, p, c, q, t), Cast(a![(i * s.N + r) * s.N + c], acc), Ref(sum)))));
                k.Store(dF, ((i * s.P + p) * s.Q + q) * s.KernelArea + t, Cast(Ref(sum), n.Storage));
            }))));
        string parts = (da, df) switch { (true, true) => "", (true, false) => "_a", _ => "_f" };
        return k.BuildKernel($"phm_gradient{parts}_{n.Tag}_n{s.N}_{s.N * s.P}x{s.N * s.Q}{(s.KernelArea > 1 ? $"x{s.KernelArea}" : "")}");
    }

    // The factored evaluation (docs/PHM.md, "Build or factored"): W is never formed. The input's channels are n blocks
    // of Q (x[c][q], block c), the output's n blocks of P (y[r][p]); U[r][i][q] = sum_c A_i[r][c] x[c][q] mixes the
    // input blocks, and output block r is the ordinary layer's pass with the weights F_i over the n * Q channels
    // (i, q) of U[r]. Loops and reduction orders are the convolution kernels' (ConvLowering), so the passes over U are
    // the ordinary layer's passes with U as input. U and dU stay in the accumulation type: the mix adds no rounding.
    // Layouts: U [r][i][q][input pixel], x [c][q][pixel], y [r][p][pixel] (CHW; a linear layer is one pixel).

    private static Expr MixedAt(PhmShape s, ConvGeometry g, Expr r, Expr i, Expr q, Expr pixel) => ((r * s.N + i) * s.Q + q) * g.Window.InputPixels + pixel;
    private static Expr FactorAt(PhmShape s, ConvGeometry g, Expr i, Expr p, Expr q, Expr kr, Expr kc) =>
        (((i * s.P + p) * s.Q + q) * g.Window.KernelH + kr) * g.Window.KernelW + kc;
    private static Expr FactorA(BufferParam a, PhmShape s, Expr i, Expr r, Expr c, ScalarType type) => Cast(a[(i * s.N + r) * s.N + c], type);
    private static string FactoredTag(PhmShape s, ConvGeometry g, Numerics n) => $"{n.Tag}_{FactoredShape(s, g)}";
    private static string FactoredShape(PhmShape s, ConvGeometry g) => $"n{s.N}_{g.Tag}";

    /// <summary>U[r][i][q][pixel] = sum over c ascending of A_i[r][c] * x[c][q][pixel], fused, from +0.</summary>
    public static Kernel MixInput(PhmShape s, ConvGeometry g, Numerics n)
    {
        var acc = n.Accumulate;
        int pixels = g.Window.InputPixels;
        var k = new KernelBuilder();
        var x = k.Input("x", n.Storage, s.N * s.Q * pixels);
        var a = k.Input("a", n.Storage, s.N * s.N * s.N);
        var u = k.Output("u", acc, (int)s.MixedElements(pixels));
        k.For("ob", 0, s.N, r => k.For("i", 0, s.N, i => k.For("q", 0, s.Q, q => k.For("pixel", 0, pixels, pixel =>
        {
            var sum = k.Declare("sum", Const(0f, acc));
            k.For("ib", 0, s.N, c => k.Assign(sum, Fma(FactorA(a, s, i, r, c, acc), Cast(x[(c * s.Q + q) * pixels + pixel], acc), Ref(sum))));
            k.Store(u, MixedAt(s, g, r, i, q, pixel), Ref(sum));
        }))));
        return k.BuildKernel($"phm_mix_{FactoredTag(s, g, n)}");
    }

    /// <summary>
    /// The columns of U[r] for the matrix-product algorithms: U[r] itself for pointwise layers (at
    /// <paramref name="start"/>), else the im2col scratch, filled here. body(columns, first element of U[r]'s columns).
    /// </summary>
    private static void BlockColumns(KernelBuilder k, ConvGeometry block, BufferParam u, BufferParam? columns, Expr r, KernelTarget target, Action<BufferParam, Expr> body)
    {
        var start = r * (block.InChannels * block.Window.InputPixels);
        if (columns is null) { body(u, start); return; }
        ConvLowering.FillColumns(k, block, u, columns, target, start);
        body(columns, 0);
    }

    /// <summary>
    /// y[r][p] = b + sum over i, q, taps of F_i[p][q][tap] * U[r][i][q] at the tap, fused, in that order (the
    /// convolution's order over the channels (i, q) of U[r]); a padded tap multiplies +0.
    /// </summary>
    public static Kernel FactoredForward(PhmShape s, ConvGeometry g, bool bias, Numerics n, ConvAlgorithm algorithm, KernelTarget target)
    {
        var acc = n.Accumulate;
        var w2 = g.Window;
        var block = s.BlockGeometry(g.Window);
        int run = s.Q * s.KernelArea;
        var k = new KernelBuilder();
        var u = k.Input("u", acc, (int)s.MixedElements(w2.InputPixels));
        var f = k.Input("f", n.Storage, s.N * s.P * run);
        var b = bias ? k.Input("b", n.Storage, g.OutChannels) : null;
        var y = k.Output("y", n.Storage, g.OutChannels * g.Pixels);
        var columns = algorithm == ConvAlgorithm.Im2col ? k.Output("columns", acc, (int)block.ColumnElements) : null;
        Expr Start(Expr r, Expr p) => b is null ? Const(0f, acc) : Cast(b[r * s.P + p], acc);
        if (algorithm == ConvAlgorithm.Direct)
        {
            k.For("ob", 0, s.N, r => k.For("p", 0, s.P, p => k.For("oh", 0, w2.OutHeight, oh =>
            {
                var rows = RowTaps(k, w2, oh);
                k.For("ow", 0, w2.OutWidth, ow =>
                {
                    var cols = ColumnTaps(k, w2, ow);
                    var sum = k.Declare("sum", Start(r, p));
                    k.For("i", 0, s.N, i => k.For("q", 0, s.Q, q => Taps(k, w2, rows, cols, (kr, kc, inside) =>
                    {
                        var uv = inside ? u[MixedAt(s, g, r, i, q, InputPixel(w2, oh, ow, kr, kc))] : Const(0f, acc);
                        k.Assign(sum, Fma(Cast(f[FactorAt(s, g, i, p, q, kr, kc)], acc), uv, Ref(sum)));
                    })));
                    k.Store(y, (r * s.P + p) * g.Pixels + oh * w2.OutWidth + ow, Cast(Ref(sum), n.Storage));
                });
            })));
        }
        else
        {
            // Per output block: U[r]'s columns, then y[r][p][pixel] = sum over (i, j = (q, tap)) of F_i[p][j] * column,
            // lanes over pixels, register-blocked over p (each column load serves several outputs' sums).
            k.For("ob", 0, s.N, r => BlockColumns(k, block, u, columns, r, target, (cm, start) =>
                k.ForBlocks("p", s.P, ConvLowering.OutputBlock, ps => k.For("pixel", 0, g.Pixels, target.Vector, pixel =>
                {
                    var sums = ps.Select(p => k.Declare("sum", Start(r, p))).ToArray();
                    k.For("i", 0, s.N, i => k.For("j", 0, run, j =>
                    {
                        var column = k.Declare("column", cm[start + (i * run + j) * g.Pixels + pixel]);
                        for (int m = 0; m < ps.Length; m++)
                            k.Assign(sums[m], Fma(Cast(f[(i * s.P + ps[m]) * run + j], acc), Ref(column), Ref(sums[m])));
                    }));
                    for (int m = 0; m < ps.Length; m++)
                        k.Store(y, (r * s.P + ps[m]) * g.Pixels + pixel, Cast(Ref(sums[m]), n.Storage));
                }))));
        }
        return k.BuildKernel($"phm_forward_factored_{n.Tag}_{ConvLowering.Algo(algorithm)}{target.Suffix}_{FactoredShape(s, g)}{(bias ? "" : "_nobias")}");
    }

    /// <summary>
    /// dF_i[p][q][tap] = sum over r, then output pixels (row-major), of dy[r][p] * U[r][i][q] at the tap, fused, from +0
    /// (a padded tap multiplies +0). Im2col fills one block's columns at a time, so it keeps each sum in an accumulator
    /// across the output blocks r (df itself when it has the accumulation type, else scratch): the order is the direct
    /// loops'.
    /// </summary>
    public static Kernel FactorGradient(PhmShape s, ConvGeometry g, Numerics n, ConvAlgorithm algorithm, KernelTarget target)
    {
        var acc = n.Accumulate;
        var w2 = g.Window;
        var block = s.BlockGeometry(g.Window);
        int run = s.Q * s.KernelArea, factors = s.N * s.P * run;
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, g.OutChannels * g.Pixels);
        var u = k.Input("u", acc, (int)s.MixedElements(w2.InputPixels));
        var df = k.Output("df", n.Storage, factors);
        if (algorithm == ConvAlgorithm.Direct)
        {
            k.For("i", 0, s.N, i => k.For("p", 0, s.P, p => k.For("q", 0, s.Q, q => k.For("r", 0, w2.KernelH, kr =>
            {
                var outRows = OutputRows(k, w2, kr);
                k.For("c", 0, w2.KernelW, kc =>
                {
                    var outCols = OutputColumns(k, w2, kc);
                    var sum = k.Declare("sum", Const(0f, acc));
                    k.For("ob", 0, s.N, r =>
                    {
                        Expr Dy(Expr oh, Expr ow) => Cast(dy[(r * s.P + p) * g.Pixels + oh * w2.OutWidth + ow], acc);
                        Split(k, "oh", w2.OutHeight, outRows, false, (oh, rowInside) =>
                        {
                            if (!rowInside) { k.For("ow", 0, w2.OutWidth, ow => k.Assign(sum, Fma(Dy(oh, ow), Const(0f, acc), Ref(sum)))); return; }
                            Split(k, "ow", w2.OutWidth, outCols, false, (ow, inside) =>
                                k.Assign(sum, Fma(Dy(oh, ow), inside ? u[MixedAt(s, g, r, i, q, InputPixel(w2, oh, ow, kr, kc))] : Const(0f, acc), Ref(sum))));
                        });
                    });
                    k.Store(df, FactorAt(s, g, i, p, q, kr, kc), Cast(Ref(sum), n.Storage));
                });
            }))));
        }
        else if (algorithm == ConvAlgorithm.Pointwise)
        {
            // U[r] is its own column matrix, so every block r is at hand: the sums stay in registers across r.
            int blockElements = block.InChannels * w2.InputPixels;
            k.For("i", 0, s.N, i => k.ForBlocks("p", s.P, ConvLowering.OutputBlock, ps => k.For("j", 0, run, target.Vector, j =>
            {
                var partial = ps.Select(_ => k.Declare("sum", Const(0f, acc))).ToArray();
                k.For("ob", 0, s.N, r => k.For("pixel", 0, g.Pixels, pixel =>
                {
                    var column = k.Declare("column", u[r * blockElements + (i * run + j) * g.Pixels + pixel]);
                    for (int m = 0; m < ps.Length; m++)
                        k.Assign(partial[m], Fma(Cast(dy[(r * s.P + ps[m]) * g.Pixels + pixel], acc), Ref(column), Ref(partial[m])));
                }));
                for (int m = 0; m < ps.Length; m++) k.Store(df, (i * s.P + ps[m]) * run + j, Cast(Ref(partial[m]), n.Storage));
            })));
        }
        else
        {
            var columns = k.Output("columns", acc, (int)block.ColumnElements);
            var sums = acc == n.Storage ? df : k.Output("acc", acc, factors);
            k.For("e", 0, factors, target.Vector, e => k.Store(sums, e, Const(0f, acc)));
            // Lanes over j = (q, tap): the columns are read with a stride of one row; blocked over p like the forward.
            k.For("ob", 0, s.N, r => BlockColumns(k, block, u, columns, r, target, (cm, start) =>
                k.For("i", 0, s.N, i => k.ForBlocks("p", s.P, ConvLowering.OutputBlock, ps => k.For("j", 0, run, target.Vector, j =>
                {
                    var partial = ps.Select(p => k.Declare("sum", sums[(i * s.P + p) * run + j])).ToArray();
                    k.For("pixel", 0, g.Pixels, pixel =>
                    {
                        var column = k.Declare("column", cm[start + (i * run + j) * g.Pixels + pixel]);
                        for (int m = 0; m < ps.Length; m++)
                            k.Assign(partial[m], Fma(Cast(dy[(r * s.P + ps[m]) * g.Pixels + pixel], acc), Ref(column), Ref(partial[m])));
                    });
                    for (int m = 0; m < ps.Length; m++) k.Store(sums, (i * s.P + ps[m]) * run + j, Ref(partial[m]));
                })))));
            if (sums != df) k.For("e", 0, factors, target.Vector, e => k.Store(df, e, Cast(sums[e], n.Storage)));
        }
        return k.BuildKernel($"phm_factor_gradient_{n.Tag}_{ConvLowering.Algo(algorithm)}{target.Suffix}_{FactoredShape(s, g)}");
    }

    /// <summary>
    /// dU[r][i][q] = F_i^T dy[r]: for each input pixel, sum over taps ascending, then p ascending, of F_i[p][q][tap] *
    /// dy[r][p] at the output pixel reading it through the tap, fused, from +0 (the convolution input gradient's scatter).
    /// </summary>
    public static Kernel MixedGradient(PhmShape s, ConvGeometry g, Numerics n)
    {
        var acc = n.Accumulate;
        var w2 = g.Window;
        var k = new KernelBuilder();
        var dy = k.Input("dy", n.Storage, g.OutChannels * g.Pixels);
        var f = k.Input("f", n.Storage, s.N * s.P * s.Q * s.KernelArea);
        var du = k.Output("du", acc, (int)s.MixedElements(w2.InputPixels));
        k.For("e", 0, (int)s.MixedElements(w2.InputPixels), e => k.Store(du, e, Const(0f, acc)));
        k.For("ob", 0, s.N, r => k.For("i", 0, s.N, i => k.For("q", 0, s.Q, q => k.For("r", 0, w2.KernelH, kr =>
        {
            var (ohLo, ohHi) = OutputRows(k, w2, kr);
            k.For("c", 0, w2.KernelW, kc =>
            {
                var (owLo, owHi) = OutputColumns(k, w2, kc);
                k.For("oh", ohLo, ohHi, oh => k.For("ow", owLo, owHi, ow =>
                {
                    var at = Ref(k.Declare("at", MixedAt(s, g, r, i, q, InputPixel(w2, oh, ow, kr, kc))));
                    var sum = k.Declare("sum", du[at]);
                    k.For("p", 0, s.P, p => k.Assign(sum, Fma(Cast(f[FactorAt(s, g, i, p, q, kr, kc)], acc),
                        Cast(dy[(r * s.P + p) * g.Pixels + oh * w2.OutWidth + ow], acc), Ref(sum))));
                    k.Store(du, at, Ref(sum));
                }));
            });
        }))));
        return k.BuildKernel($"phm_mixed_gradient_{FactoredTag(s, g, n)}");
    }

    /// <summary>dA_i[r][c] = sum over q, then pixels, of dU[r][i][q][pixel] * x[c][q][pixel], fused, from +0.</summary>
    public static Kernel MixWeightGradient(PhmShape s, ConvGeometry g, Numerics n)
    {
        var acc = n.Accumulate;
        int pixels = g.Window.InputPixels;
        var k = new KernelBuilder();
        var du = k.Input("du", acc, (int)s.MixedElements(pixels));
        var x = k.Input("x", n.Storage, s.N * s.Q * pixels);
        var da = k.Output("da", n.Storage, s.N * s.N * s.N);
        k.For("i", 0, s.N, i => k.For("ob", 0, s.N, r => k.For("ib", 0, s.N, c =>
        {
            var sum = k.Declare("sum", Const(0f, acc));
            k.For("q", 0, s.Q, q => k.For("pixel", 0, pixels, pixel =>
                k.Assign(sum, Fma(du[MixedAt(s, g, r, i, q, pixel)], Cast(x[(c * s.Q + q) * pixels + pixel], acc), Ref(sum)))));
            k.Store(da, (i * s.N + r) * s.N + c, Cast(Ref(sum), n.Storage));
        })));
        return k.BuildKernel($"phm_mix_weight_gradient_{FactoredTag(s, g, n)}");
    }

    /// <summary>dx[c][q][pixel] = sum over r, then i, ascending of A_i[r][c] * dU[r][i][q][pixel], fused, from +0.</summary>
    public static Kernel MixInputGradient(PhmShape s, ConvGeometry g, Numerics n)
    {
        var acc = n.Accumulate;
        int pixels = g.Window.InputPixels;
        var k = new KernelBuilder();
        var du = k.Input("du", acc, (int)s.MixedElements(pixels));
        var a = k.Input("a", n.Storage, s.N * s.N * s.N);
        var dx = k.Output("dx", n.Storage, s.N * s.Q * pixels);
        k.For("ib", 0, s.N, c => k.For("q", 0, s.Q, q => k.For("pixel", 0, pixels, pixel =>
        {
            var sum = k.Declare("sum", Const(0f, acc));
            k.For("ob", 0, s.N, r => k.For("i", 0, s.N, i =>
                k.Assign(sum, Fma(FactorA(a, s, i, r, c, acc), du[MixedAt(s, g, r, i, q, pixel)], Ref(sum)))));
            k.Store(dx, (c * s.Q + q) * pixels + pixel, Cast(Ref(sum), n.Storage));
        })));
        return k.BuildKernel($"phm_mix_input_gradient_{FactoredTag(s, g, n)}");
    }
}
