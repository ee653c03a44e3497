using TinyOdl.Graph;
using TinyOdl.Passes.Binary;
using static TinyOdl.Kernels.Ir;
using static TinyOdl.Kernels.Lowering.WindowLoops;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// MST compression of binary convolutions on the device (docs/BINARY.md; Vo et al., ICCV 2023). Within each group,
/// output channel c is computed from its tree parent p's accumulator: with D = w_p XOR w_c,
/// acc_c = acc_p + popcount(D) - 2 * popcount((x XOR w_p) AND D), summed over the words of the window. The tree is
/// rebuilt on the device after training flips weight signs, with exactly <see cref="MstPlanner.Build"/>'s algorithm,
/// so device and compiler agree on it. Layouts are <see cref="BinaryLowering"/>'s: x_bits[(pixel * groups + g) * words
/// + word], w_bits[((co * KH + r) * KW + c) * words + word], where a channel's kernel is one contiguous run of
/// KH * KW * words words.
/// </summary>
internal static class MstLowering
{
    /// <summary>Larger than any Hamming distance: the "no candidate" key.</summary>
    private const int Infinite = int.MaxValue;

    /// <summary>
    /// Rebuilds each group's tree when the weight signs changed since the last build. Buffers, in order: w_bits (in),
    /// previous_bits (in/out: the bits the tree was built for), built (I32[1], 0 until the first build), parent
    /// (global channel index, -1 for each group's root), order (group g's channels in insertion order at
    /// [g * OutPerGroup, ...)), scratch key (ends as each channel's distance to its parent), in_tree, depth, and the
    /// weight image (<see cref="MstImage"/>, layer state like the tree) and its used length in bits, image_bits.
    /// Cost: one XOR per weight word to detect a change; a rebuild computes each pair of a group's channels' Hamming
    /// distance at most once, Groups * OutPerGroup^2 / 2 * KH * KW * words popcounts (O(Cout^2 * K / 32)), plus
    /// O(Cout^2) compares to pick the next channel, plus one pass over the weights to write the image.
    /// </summary>
    /// <param name="maxDepth">The planner's depth limit (at least 1), or null for a minimum spanning tree.</param>
    public static Kernel BuildTree(ConvGeometry g, int? maxDepth)
    {
        if (maxDepth is < 1) throw TinyOdlException.At("max_depth", $"must be at least 1, got {maxDepth}");
        int channels = g.OutChannels, n = g.OutPerGroup;
        int kernelWords = g.Window.KernelArea * g.SignWords;
        var k = new KernelBuilder();
        var w = k.Input("w_bits", ScalarType.I32, channels * kernelWords);
        var previous = k.Output("previous_bits", ScalarType.I32, channels * kernelWords);
        var built = k.Output("built", ScalarType.I32, 1);
        var parent = k.Output("parent", ScalarType.I32, channels);
        var order = k.Output("order", ScalarType.I32, channels);
        var key = k.Output("key", ScalarType.I32, channels);
        var inTree = k.Output("in_tree", ScalarType.I32, channels);
        var depth = k.Output("depth", ScalarType.I32, channels);
        var layout = MstImage.Layout.Of(g);
        var image = k.Output("image", ScalarType.I32, layout.CapacityWords);
        var imageBits = k.Output("image_bits", ScalarType.I32, 1);

        // start + the Hamming distance of channels a and b over their first `count` words, as local `name`.
        Expr Distance(string name, Expr a, Expr b, Expr start, Expr count)
        {
            var d = k.Declare(name, start);
            k.For("t", 0, count, t => k.Assign(d, Ref(d) + Popcount(Xor(w[a * kernelWords + t], w[b * kernelWords + t]))));
            return Ref(d);
        }

        // Training flips few signs between steps, so the tree is usually still right: rebuild only on a change.
        var differ = k.Declare("differ", 0);
        k.For("i", 0, channels * kernelWords, i => k.Assign(differ, Or(Ref(differ), Xor(w[i], previous[i]))));
        // No `if` in kernel IR: the rebuild is a loop that runs once or not at all.
        var rebuild = Ref(k.Declare("rebuild", Select(Eq(built[0], 0), 1, Select(Ne(Ref(differ), 0), 1, 0))));
        k.For("pass", 0, rebuild, _ =>
        {
            k.ForCount("g", g.Groups, false, gi =>
            {
                var root = Ref(k.Declare("root", gi * n));
                k.Store(parent, root, -1);
                k.Store(order, root, root);
                k.Store(key, root, 0);
                k.Store(inTree, root, 1);
                k.Store(depth, root, 0);
                if (n == 1) return;
                // The root offers every channel a parent.
                k.For("m", 1, n, m =>
                {
                    var v = root + m;
                    k.Store(key, v, Distance("dist", root, v, 0, kernelWords));
                    k.Store(parent, v, root);
                    k.Store(inTree, v, 0);
                    k.Store(depth, v, 0);
                });
                k.For("added", 1, n, added =>
                {
                    // The channel outside the tree with the smallest key; strict < so ties go to the smallest index.
                    var best = k.Declare("best", Infinite);
                    var u = k.Declare("u", root);
                    k.For("m", 0, n, m =>
                    {
                        var v = root + m;
                        var candidate = Ref(k.Declare("candidate", Select(Eq(inTree[v], 0), key[v], Infinite)));
                        k.Assign(u, Select(Lt(candidate, Ref(best)), v, Ref(u)));
                        k.Assign(best, Min(candidate, Ref(best)));
                    });
                    k.Store(inTree, Ref(u), 1);
                    k.Store(order, root + added, Ref(u));
                    var level = Ref(k.Declare("level", depth[parent[Ref(u)]] + 1));
                    k.Store(depth, Ref(u), level);
                    // A channel at the depth limit offers no parent: its relaxation loop runs 0 times.
                    var relax = maxDepth is { } limit ? Ref(k.Declare("relax", Select(Lt(level, limit), n, 0))) : n;
                    k.For("m", 0, relax, m =>
                    {
                        var v = root + m;
                        // A channel already in the tree compares no words and stays "infinitely" far, so it never moves.
                        var outside = Eq(inTree[v], 0);
                        var span = Ref(k.Declare("span", Select(outside, kernelWords, 0)));
                        var d = Distance("d", Ref(u), v, Select(outside, 0, Infinite), span);
                        // Only a strictly closer channel takes over, so the first of equally close parents stays.
                        var closer = Lt(d, key[v]);
                        k.Store(parent, v, Select(closer, Ref(u), parent[v]));
                        k.Store(key, v, Select(closer, d, key[v]));
                    });
                });
            });
            WriteImage(k, layout, w, parent, key, image, imageBits);
            k.For("i", 0, channels * kernelWords, i => k.Store(previous, i, w[i]));
            k.Store(built, 0, 1);
        });
        string groups = g.Groups > 1 ? $"_g{g.Groups}" : "";
        string limitTag = maxDepth is { } l ? $"_depth{l}" : "";
        return k.BuildKernel($"mst_build_{channels}x{g.InPerGroup}x{g.Window.KernelH}x{g.Window.KernelW}{groups}{limitTag}");
    }

    /// <summary>
    /// The layer's weight image, <see cref="MstImage.Encode"/>'s bit stream (docs/BINARY.md, "Stored form"), from the
    /// trees just built: the image is zeroed, then per group in channel order the root's K bits, and for every other
    /// channel its parent index within the group, the form bit and D = w_p XOR w_c as a mask (K bits) or as a count
    /// and D's bit positions (list iff d &lt; <see cref="MstImage.Layout.ListBelow"/>). d is key[c], which Prim leaves
    /// as the distance to the parent. Kernel bits go one packed word at a time (its used bits: the zero tail bits of
    /// a tap's last word are not stored); image_bits gets the used length. Kernel IR has no `if`: each form is a loop
    /// that runs 0 times or fully. Cost per rebuild: zeroing the image, one pass over the weight words, plus per
    /// listed bit a few word operations.
    /// </summary>
    private static void WriteImage(KernelBuilder k, MstImage.Layout layout, BufferParam w, BufferParam parent, BufferParam key,
        BufferParam image, BufferParam imageBits)
    {
        int n = layout.PerGroup, words = layout.SignWords, kernelWords = layout.KernelWords, last = layout.CapacityWords - 1;
        k.For("i", 0, layout.CapacityWords, i => k.Store(image, i, 0));
        var cursor = k.Declare("cursor", 0);

        // put(value, width), value < 2^width: the low bits at the cursor's word, the rest in the next one (a spill
        // of 0 when the field ends in its word; the last word takes its own 0 instead of a word past the end).
        // Logical shifts on the word: value >> 1 >> (31 - off) is value >> (32 - off), 0 when off = 0.
        void Put(Expr value, Expr width)
        {
            var v = Ref(k.Declare("value", value));
            var at = Ref(k.Declare("at", LShr(Ref(cursor), 5)));
            var off = Ref(k.Declare("off", And(Ref(cursor), 31)));
            k.Store(image, at, Or(image[at], Shl(v, off)));
            var next = Ref(k.Declare("next", Min(at + 1, last)));
            k.Store(image, next, Or(image[next], LShr(LShr(v, 1), 31 - off)));
            k.Assign(cursor, Ref(cursor) + width);
        }

        // body(word index t within the kernel, dense position of its bit 0, used bits) over `taps` taps (0 or all).
        void EachWord(Expr taps, Action<Expr, Expr, Expr> body) => k.For("tap", 0, taps, tap =>
            k.ForCount("j", words, false, j => body(tap * words + j, tap * layout.InPerGroup + j * 32,
                words == 1 ? layout.InPerGroup : Select(Lt(j, words - 1), 32, layout.UsedBits(words - 1)))));

        k.ForCount("g", layout.Groups, false, gi =>
        {
            var root = Ref(k.Declare("root", gi * n));
            EachWord(layout.Taps, (t, _, width) => Put(w[root * kernelWords + t], width));
            if (n == 1) return;
            k.For("m", 1, n, m =>
            {
                var c = Ref(k.Declare("c", root + m));
                var p = Ref(k.Declare("p", parent[c]));
                var list = Ref(k.Declare("list", Select(Lt(key[c], layout.ListBelow), 1, 0)));
                var isList = Ne(list, 0);
                Put(p - root, layout.ParentBits);
                Put(list, 1);
                // A list's count d (for a mask a put of 0 bits, before the mask so the cursor is inside the image).
                Put(Select(isList, key[c], 0), Select(isList, layout.CountBits, 0));
                // Mask: each word of D with its used bits.
                EachWord(Select(isList, 0, layout.Taps), (t, _, width) => Put(Xor(w[c * kernelWords + t], w[p * kernelWords + t]), width));
                // List: each set bit of D, lowest first, as its dense position. Signed overflow is undefined in C, so
                // the lowest set bit is found without subtracting from a word that may be INT_MIN: bit 0, or 1 +
                // trailing zeros of (rest >> 1).
                EachWord(Select(isList, layout.Taps, 0), (t, start, _) =>
                {
                    var rest = k.Declare("rest", Xor(w[c * kernelWords + t], w[p * kernelWords + t]));
                    // The count is read once: the loop clears rest's bits as it goes.
                    var bits = Ref(k.Declare("bits", Popcount(Ref(rest))));
                    k.For("b", 0, bits, _ =>
                    {
                        var half = Ref(k.Declare("half", LShr(Ref(rest), 1)));
                        var low = Ref(k.Declare("low", Select(Ne(And(Ref(rest), 1), 0), 0, Popcount(Xor(half, half - 1)))));
                        Put(start + low, layout.PositionBits);
                        k.Assign(rest, Xor(Ref(rest), Shl(1, low)));
                    });
                });
            });
        });
        k.Store(imageBits, 0, Ref(cursor));
    }

    /// <summary>
    /// <see cref="BinaryLowering.XnorForward"/>'s result, bit for bit, with channels computed along the tree. Buffers,
    /// in order: x_bits, w_bits, alpha, b (with bias), parent, order (as <see cref="BuildTree"/> leaves them), y, and
    /// scratch acc (I32[Cout], one output pixel's accumulators). Per output pixel each group's root (order's first
    /// entry) takes the full XNOR-popcount, then every other channel, in order, its parent's accumulator plus the
    /// correction over D = w_p XOR w_c. Zero padding counts only the taps inside the input, in the correction too; one
    /// padding reads a padded tap's x word as 0. The integer accumulators equal the plain ones, and the output
    /// transform is XnorForward's, so y is identical.
    /// Cost per pixel and group: the root K / 32 words as XnorForward (load x, load w, xor, popcount, add); each child
    /// K / 32 words of three loads (x, w_p, w_c), xor, xor, and, two popcounts and two adds (clang -O2 for
    /// rv32imafc_zbb: 15 instructions per word against XnorForward's 9, loop counting included). Every word is
    /// processed whether D has bits in it or not, so this costs more than XnorForward; the paper's savings (K + sum
    /// of edge weights bit operations) need the zero words of D skipped, e.g. a per-child list of D's nonzero words.
    /// </summary>
    public static Kernel Forward(ConvGeometry g, bool bias, BinaryPadding padding, Numerics n)
    {
        var w2 = g.Window;
        int words = g.SignWords, perGroup = g.OutPerGroup;
        var k = new KernelBuilder();
        var x = k.Input("x_bits", ScalarType.I32, w2.InputPixels * g.Groups * words);
        var w = k.Input("w_bits", ScalarType.I32, g.OutChannels * w2.KernelArea * words);
        var alpha = k.Input("alpha", n.Storage, g.OutChannels);
        var b = bias ? k.Input("b", n.Storage, g.OutChannels) : null;
        var parent = k.Input("parent", ScalarType.I32, g.OutChannels);
        var order = k.Input("order", ScalarType.I32, g.OutChannels);
        var y = k.Output("y", n.Storage, g.OutChannels * g.Pixels);
        var acc = k.Output("acc", ScalarType.I32, g.OutChannels);
        bool one = padding == BinaryPadding.One && w2.HasPadding;
        Expr WordOf(Expr co, Expr r, Expr c, Expr word) => w[((co * w2.KernelH + r) * w2.KernelW + c) * words + word];
        // x XOR w, where a padded x word (null) is 0.
        static Expr XorX(Expr? xWord, Expr wWord) => xWord is null ? wWord : Xor(xWord, wWord);
        k.For("oh", 0, w2.OutHeight, oh =>
        {
            var rows = RowTaps(k, w2, oh);
            k.For("ow", 0, w2.OutWidth, ow =>
            {
                var cols = ColumnTaps(k, w2, ow);
                Expr taps = one ? g.Taps : Ref(k.Declare("taps", (rows.Item2 - rows.Item1) * (cols.Item2 - cols.Item1) * g.InPerGroup));

                // body(r, c, word, x word) over the taps that count, in XnorForward's order; a padded tap's x word is
                // null (one padding: it reads +1, bits 0).
                void EachWord(Expr gi, Action<Expr, Expr, Expr, Expr?> body)
                {
                    void Tap(Expr r, Expr c, bool inside) => k.ForCount("word", words, false, word =>
                        body(r, c, word, inside ? x[(InputPixel(w2, oh, ow, r, c) * g.Groups + gi) * words + word] : null));
                    if (one) Taps(k, w2, rows, cols, Tap);
                    else k.For("r", rows.Item1, rows.Item2, r => k.For("c", cols.Item1, cols.Item2, c => Tap(r, c, true)));
                }

                // XnorForward's output transform, the same float operations.
                void Output(Expr co, Expr count)
                {
                    k.Store(acc, co, count);
                    k.Store(y, co * g.Pixels + oh * w2.OutWidth + ow, BinaryLowering.OutputValue(alpha[co], taps - count * 2, b is null ? null : b[co], n));
                }

                k.ForCount("g", g.Groups, false, gi =>
                {
                    var root = Ref(k.Declare("root", order[gi * perGroup]));
                    var full = k.Declare("full", 0);
                    EachWord(gi, (r, c, word, xw) => k.Assign(full, Ref(full) + Popcount(XorX(xw, WordOf(root, r, c, word)))));
                    Output(root, Ref(full));
                    if (perGroup == 1) return;
                    k.For("j", 1, perGroup, j =>
                    {
                        var ch = Ref(k.Declare("ch", order[gi * perGroup + j]));
                        var par = Ref(k.Declare("par", parent[ch]));
                        var d = k.Declare("d", 0);
                        var flipped = k.Declare("flipped", 0);
                        EachWord(gi, (r, c, word, xw) =>
                        {
                            var wp = Ref(k.Declare("wp", WordOf(par, r, c, word)));
                            var diff = Ref(k.Declare("diff", Xor(wp, WordOf(ch, r, c, word))));
                            k.Assign(d, Ref(d) + Popcount(diff));
                            // (x XOR w_p) AND D: the bits of D where x disagrees with the parent, so agrees with the child.
                            k.Assign(flipped, Ref(flipped) + Popcount(And(XorX(xw, wp), diff)));
                        });
                        Output(ch, Ref(k.Declare("total", acc[par] + Ref(d) - Ref(flipped) * 2)));
                    });
                });
            });
        });
        return k.BuildKernel($"{BinaryLowering.ForwardName(g, n)}_mst_{BinaryLowering.Shape(g)}{(one ? "_one_padding" : "")}{(bias ? "" : "_nobias")}");
    }

    /// <summary>
    /// Gradient of the MST regularizer R = lambda / 2 * sum over tree edges of ||W_child - W_parent||^2 on the latent
    /// weights (docs/BINARY.md), added to dW in place: for each child c in tree order, diff = W_c - W_p (accumulation
    /// type), dW_c = fma(lambda, diff, dW_c), dW_p = fma(-lambda, diff, dW_p), taps ascending. Pulling a child's latent
    /// weights toward its parent's makes their signs agree, which shortens the tree's edges. <paramref name="lambda"/>
    /// already includes the loss scale, as every gradient does.
    /// </summary>
    public static Kernel RegularizerGradient(ConvGeometry g, float lambda, Numerics n)
    {
        var a = n.Accumulate;
        int taps = g.Taps;
        var k = new KernelBuilder();
        var w = k.Input("w", n.Storage, g.OutChannels * taps);
        var parent = k.Input("parent", ScalarType.I32, g.OutChannels);
        var order = k.Input("order", ScalarType.I32, g.OutChannels);
        var dw = k.Output("dw", n.Storage, g.OutChannels * taps);
        k.For("i", 0, g.OutChannels, i =>
        {
            var c = Ref(k.Declare("c", order[i]));
            var p = Ref(k.Declare("p", parent[c]));
            // A root (parent -1) has no edge: its loop runs 0 times, and p is clamped so no index is ever negative.
            var edge = Ref(k.Declare("edge_taps", Select(Lt(p, 0), 0, taps)));
            var from = Ref(k.Declare("q", Select(Lt(p, 0), 0, p)));
            k.For("t", 0, edge, t =>
            {
                var diff = Ref(k.Declare("diff", Cast(w[c * taps + t], a) - Cast(w[from * taps + t], a)));
                k.Store(dw, c * taps + t, Cast(Fma(Const(lambda, a), diff, Cast(dw[c * taps + t], a)), n.Storage));
                k.Store(dw, from * taps + t, Cast(Fma(Const(-lambda, a), diff, Cast(dw[from * taps + t], a)), n.Storage));
            });
        });
        return k.BuildKernel($"mst_regularizer_{n.Tag}_{g.OutChannels}x{taps}_l{KernelNames.Constant(lambda)}");
    }
}
