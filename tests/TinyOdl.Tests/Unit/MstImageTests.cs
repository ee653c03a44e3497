using CsCheck;
using TinyOdl.Passes.Binary;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// The MST weight image (docs/BINARY.md, "Stored form"): decoding gives back every kernel and the tree's parents, its
/// length is the cost formula's storage bits, and each child's difference takes the form the rule picks, on hand-made
/// cases that sit on each side of every boundary. That the device writes the same bits is checked with its tree, in
/// MstKernelTests.
/// </summary>
public class MstImageTests
{
    /// <summary>Packed kernels (zero tail bits) of a layout and the joined tree the device would build for them.</summary>
    private sealed record Layer(MstImage.Layout Layout, uint[][] Channels, int? MaxDepth)
    {
        public IReadOnlyList<MstTree> Trees => MstPlanner.BuildGroups(Channels, Layout.Groups, MaxDepth);
        public override string ToString() =>
            $"{Layout} maxDepth={MaxDepth} bits=[{string.Join(", ", Channels.Select(c => string.Join(" ", c.Select(w => w.ToString("x8")))))}]";
    }

    /// <summary>Packs dense kernel bits (bit k = tap * inPerGroup + channel) as the kernels do, tail bits 0.</summary>
    private static uint[] Pack(MstImage.Layout layout, IEnumerable<int> dense)
    {
        var bits = new uint[layout.KernelWords];
        foreach (int k in dense) bits[k / layout.InPerGroup * layout.SignWords + k % layout.InPerGroup / 32] ^= 1u << (k % layout.InPerGroup % 32);
        return bits;
    }

    /// <summary>
    /// Channels copied from a few prototypes with 0 to <c>flips</c> dense bits flipped (near channels, so lists, masks
    /// and d = 0 lists all occur), or independent random bits when <c>flips</c> is -1. Input channels per group from 1
    /// to 70 (K not a multiple of 32, several words per tap, K &gt; 32), one group of one channel included.
    /// </summary>
    private static readonly Gen<Layer> Layers =
        from groupSize in Gen.Int[1, 12]
        from groups in Gen.Int[1, 3]
        from inPerGroup in Gen.OneOf(Gen.Int[1, 8], Gen.Int[1, 70], Gen.Const(32), Gen.Const(64))
        from taps in Gen.OneOf(Gen.Const(1), Gen.Int[1, 9])
        let layout = new MstImage.Layout(groupSize * groups, groups, inPerGroup, taps)
        from prototypes in Gen.Bool.Array[3 * layout.KBits]
        from picks in Gen.Int[0, 2].Array[layout.Channels]
        from flips in Gen.OneOf(Gen.Const(0), Gen.Int[1, 4], Gen.Int[1, 40], Gen.Const(-1))
        from positions in Gen.Int[0, layout.KBits - 1].Array[layout.Channels * Math.Max(flips, 1)]
        from random in Gen.Bool.Array[layout.Channels * layout.KBits]
        from limit in Gen.OneOf(Gen.Const((int?)null), Gen.Int[1, 4].Select(v => (int?)v))
        let channels = Enumerable.Range(0, layout.Channels).Select(c => Pack(layout, flips < 0
            ? Enumerable.Range(0, layout.KBits).Where(k => random[c * layout.KBits + k])
            : Enumerable.Range(0, layout.KBits).Where(k => prototypes[picks[c] * layout.KBits + k])
                .Concat(positions.AsSpan(c * Math.Max(flips, 1), flips).ToArray()))).ToArray()
        select new Layer(layout, channels, limit);

    [Fact]
    public void Decode_gives_back_every_kernel_and_the_trees_parents_and_the_length_is_the_cost_formulas()
    {
        Layers.Sample(l =>
        {
            var trees = l.Trees;
            var tree = MstTree.Join(trees);
            var image = MstImage.Encode(l.Channels, tree, l.Layout);
            Assert.Equal((image.Bits + 31) / 32, image.Words.Length);
            Assert.True(image.Bits <= l.Layout.CapacityBits);
            if (image.Bits % 32 != 0) Assert.Equal(0u, image.Words[^1] >> (image.Bits % 32));

            var decoded = MstImage.Decode(image.Words, l.Layout);
            Assert.Equal(l.Channels, decoded.Kernels);
            Assert.Equal(tree.Parent, decoded.Parent);
            Assert.Equal(image.Bits, decoded.Bits);
            // Words after the image (the device's zeroed rest of the tensor) change nothing.
            Assert.Equal(l.Channels, MstImage.Decode([.. image.Words, 0u, 0u], l.Layout).Kernels);

            // The planner's storage count is the image's length, group by group summed.
            var costs = trees.Select(t => MstPlanner.Cost(t, l.Layout.KBits)).ToArray();
            Assert.Equal(costs.Sum(c => c.MstStorageBits), image.Bits);
            var size = MstImage.Measure(image.Words, l.Layout);
            Assert.Equal(new MstImage.Size(image.Bits, costs.Sum(c => c.MaskChildren), costs.Sum(c => c.ListChildren)), size);
            Assert.Equal(l.Layout.Channels - l.Layout.Groups, size.Masks + size.Lists);
            if (l.MaxDepth is { } limit) Assert.True(tree.MaxDepth <= limit);
        }, iter: 600);
    }

    [Fact]
    public void List_bound_of_the_device_is_the_form_rule()
    {
        for (int k = 1; k <= 1100; k++)
        {
            var layout = new MstImage.Layout(2, 1, k, 1);
            for (int d = 0; d <= k; d++)
                Assert.Equal(layout.UsesList(d), d < layout.ListBelow);
        }
    }

    // ---- The stream on hand-made pairs: channel 0 (the root) and channel 1 with the given dense bits set.

    /// <summary>A layout of two channels, the root all zero and the child with <paramref name="positions"/> set.</summary>
    private static MstImage.Encoded Pair(MstImage.Layout layout, params int[] positions)
    {
        var channels = new[] { new uint[layout.KernelWords], Pack(layout, positions) };
        return MstImage.Encode(channels, MstPlanner.Build(channels), layout);
    }

    /// <summary>Bits [from, from + width) of a stream, LSB first.</summary>
    private static uint Field(MstImage.Encoded image, int from, int width)
    {
        uint value = 0;
        for (int b = 0; b < width; b++) value |= (image.Words[(from + b) / 32] >> ((from + b) % 32) & 1) << b;
        return value;
    }

    [Fact]
    public void Root_kernel_is_dense_and_fields_follow_it_lsb_first()
    {
        // 20 inputs, 3 taps: K = 60 dense bits from 3 packed words of 20 used bits each.
        var layout = new MstImage.Layout(2, 1, 20, 3);
        var channels = new[] { Pack(layout, [0, 19, 20, 59]), Pack(layout, [0, 19, 20, 59, 33]) };
        var image = MstImage.Encode(channels, MstPlanner.Build(channels), layout);
        Assert.Equal(1u | 1u << 19 | 1u << 20, image.Words[0]);
        Assert.Equal(1u << (59 - 32), image.Words[1] & (1u << 28) - 1);
        // K = 60: B_p = 1 (parent 0), form 1 (list), count B_c = 6 bits = 1, one position of B_k = 6 bits = 33.
        Assert.Equal((0u, 1u, 1u, 33u), (Field(image, 60, 1), Field(image, 61, 1), Field(image, 62, 6), Field(image, 68, 6)));
        Assert.Equal(74, image.Bits);
        Assert.Equal(3, image.Words.Length);
    }

    [Fact]
    public void Form_rule_on_crafted_differences()
    {
        // K = 64 (2 words): B_c = 7, B_k = 6; a list of d positions is 7 + 6d bits, shorter than 64 up to d = 9.
        var layout = new MstImage.Layout(2, 1, 64, 1);
        var equal = Pair(layout);
        Assert.Equal(64 + 1 + 1 + 7, equal.Bits);
        Assert.Equal((1u, 0u), (Field(equal, 65, 1), Field(equal, 66, 7)));
        var list = Pair(layout, Enumerable.Range(0, 9).Select(i => i * 7).ToArray());
        Assert.Equal(64 + 2 + 7 + 9 * 6, list.Bits);
        Assert.Equal(1u, Field(list, 65, 1));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (uint)(i * 7)), Enumerable.Range(0, 9).Select(i => Field(list, 73 + i * 6, 6)));
        var mask = Pair(layout, Enumerable.Range(0, 10).ToArray());
        Assert.Equal(64 + 2 + 64, mask.Bits);
        Assert.Equal((0u, 0x3FFu), (Field(mask, 65, 1), Field(mask, 66, 32)));

        // A tie: K = 12, B_c = 4, B_k = 4, two positions are 12 bits as the mask is: the mask.
        var tieLayout = new MstImage.Layout(2, 1, 12, 1);
        var tie = Pair(tieLayout, 3, 5);
        Assert.Equal((0u, 0b101000u), (Field(tie, 13, 1), Field(tie, 14, 12)));
        Assert.Equal(1u, Field(Pair(tieLayout, 3), 13, 1));

        // K = 1 and 2: a list never beats the mask, not even for d = 0.
        foreach (int k in new[] { 1, 2 })
        {
            var tiny = new MstImage.Layout(2, 1, k, 1);
            Assert.Equal(k + 1 + 1 + k, Pair(tiny).Bits);
        }
        Assert.Equal(3 + 1 + 1 + 2, Pair(new MstImage.Layout(2, 1, 3, 1)).Bits);
    }

    [Fact]
    public void Groups_store_parent_indices_within_the_group()
    {
        // Two groups of three, 4 inputs per group: B_p = 2; the second group's channel 5 is a copy of channel 3.
        var layout = new MstImage.Layout(6, 2, 4, 1);
        var channels = new[] { 0b0001u, 0b0011u, 0b1111u, 0b1000u, 0b0110u, 0b1000u }.Select(v => new[] { v }).ToArray();
        var tree = MstTree.Join(MstPlanner.BuildGroups(channels, 2));
        Assert.Equal(new[] { -1, 0, 1, -1, 3, 3 }, tree.Parent);
        var image = MstImage.Encode(channels, tree, layout);
        // K = 4: B_c = 3, B_k = 2, list iff 3 + 2d < 4, so only d = 0. Records: 4 | 2+1+4 | 2+1+4 | 4 | 2+1+4 | 2+1+3.
        Assert.Equal(4 + 7 + 7 + 4 + 7 + 6, image.Bits);
        // Channel 2's parent index 1 at bit 11; channel 5's 0 at bit 29, then the list form and a count of 0.
        Assert.Equal((1u, 0u, 1u, 0u), (Field(image, 11, 2), Field(image, 29, 2), Field(image, 31, 1), Field(image, 32, 3)));
        Assert.Equal(channels, MstImage.Decode(image.Words, layout).Kernels);
    }

    /// <summary>A stream of (value, width) fields, LSB first (zero-valued fields may be wider than one word).</summary>
    private static uint[] Stream(params (uint Value, int Width)[] fields)
    {
        var words = new uint[(fields.Sum(f => f.Width) + 31) / 32];
        int at = 0;
        foreach (var (value, width) in fields)
            for (int b = 0; b < width; b++, at++)
                words[at / 32] |= (b < 32 ? value >> b & 1 : 0) << (at % 32);
        return words;
    }

    [Fact]
    public void Malformed_images_are_refused()
    {
        var layout = new MstImage.Layout(3, 1, 8, 1);
        var channels = new[] { new[] { 0x00u }, new[] { 0x01u }, new[] { 0x03u } };
        var image = MstImage.Encode(channels, MstTree.Join(MstPlanner.BuildGroups(channels, 1)), layout);
        // K = 8, B_p = 2, B_c = 4, B_k = 3: root 0..7, child 1 at 8 (parent 0, list, count 1, position 0), child 2
        // at 18 (parent 1, list, count 1, position 1).
        Assert.Equal(28, image.Bits);
        Assert.Equal(channels, MstImage.Decode(image.Words, layout).Kernels);
        uint[] With(int bit) { var words = (uint[])image.Words.Clone(); words[bit / 32] ^= 1u << (bit % 32); return words; }
        string Refused(uint[] words) => Assert.Throws<TinyOdlException>(() => MstImage.Decode(words, layout)).Message;
        Assert.Contains("ends", Refused(image.Words[..0]));
        // Child 1's parent index 0 -> 1 (itself); child 2's 1 -> 3 (not in a group of 3).
        Assert.Contains("parent index 1", Refused(With(8)));
        Assert.Contains("parent index 3", Refused(With(19)));
        // Child 1's parent index 0 -> 2, whose parent is child 1.
        Assert.Contains("cycle", Refused(With(9)));
        // Child 1's count 1 -> 3: the mask would be shorter than 3 positions.
        Assert.Contains("list of 3", Refused(With(12)));
        // Child 1's form bit cleared: the next 8 bits read as its mask, and the fields after them no longer parse.
        Assert.Throws<TinyOdlException>(() => MstImage.Decode(With(10), layout));
        // K = 60 (B_c = B_k = 6), two channels: a list of two positions, 3 then 10 decodes; 10 then 3 (descending)
        // and 3 then 61 (beyond K) are refused.
        var pair = new MstImage.Layout(2, 1, 60, 1);
        uint[] List(int first, int second) => Stream((0, 60), (0, 1), (1, 1), (2, 6), ((uint)first, 6), ((uint)second, 6));
        Assert.Equal(1u << 3 | 1u << 10, MstImage.Decode(List(3, 10), pair).Kernels[1][0]);
        Assert.Contains("position 3 after 10", Assert.Throws<TinyOdlException>(() => MstImage.Decode(List(10, 3), pair)).Message);
        Assert.Contains("position 61", Assert.Throws<TinyOdlException>(() => MstImage.Decode(List(3, 61), pair)).Message);
        // A cycle the tree itself has: child 1's parent 2 and child 2's parent 1.
        var cycle = new MstTree([-1, 2, 1], [0, 1, 2], [0, 1, 1], [0, 0, 0]);
        var encoded = MstImage.Encode([new[] { 0u }, new[] { 0u }, new[] { 0u }], cycle, layout);
        Assert.Contains("cycle", Assert.Throws<TinyOdlException>(() => MstImage.Decode(encoded.Words, layout)).Message);
        // A tree whose root is not its group's first channel has no image.
        var late = new MstTree([1, -1, 1], [1, 0, 2], [1, 0, 1], [0, 0, 0]);
        Assert.Throws<TinyOdlException>(() => MstImage.Encode(channels, late, layout));
    }
}
