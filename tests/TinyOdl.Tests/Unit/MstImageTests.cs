using CsCheck;
using TinyOdl.Passes.Binary;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// The MST weight image (docs/BINARY.md, "Stored form"): decoding gives back every kernel and the tree's parents, and
/// each child's difference takes the form the rule picks, on hand-made cases that sit on each side of every boundary.
/// That the device writes the same words is checked with its tree, in MstKernelTests.
/// </summary>
public class MstImageTests
{
    /// <summary>Packed kernels and the joined tree the device would build for them.</summary>
    private sealed record Layer(uint[][] Channels, int Groups, int? MaxDepth)
    {
        public MstTree Tree => MstTree.Join(MstPlanner.BuildGroups(Channels, Groups, MaxDepth));
        public int KernelWords => Channels[0].Length;
        public override string ToString() =>
            $"channels={Channels.Length} words={KernelWords} groups={Groups} maxDepth={MaxDepth} bits=[{string.Join(", ", Channels.Select(c => string.Join(" ", c.Select(w => w.ToString("x8")))))}]";
    }

    /// <summary>
    /// Channels copied from a few prototypes with 0 to <c>flips</c> bits flipped (near channels, so lists, masks and
    /// the d = 0 list all occur), or independent random words when <c>flips</c> is large.
    /// </summary>
    private static readonly Gen<Layer> Layers =
        from groupSize in Gen.Int[1, 12]
        from groups in Gen.Int[1, 3]
        from kernelWords in Gen.Int[1, 6]
        from prototypes in Gen.UInt.Array[3 * kernelWords]
        from picks in Gen.Int[0, 2].Array[groupSize * groups]
        from flips in Gen.OneOf(Gen.Const(0), Gen.Int[1, 4], Gen.Int[1, 40], Gen.Const(-1))
        from positions in Gen.Int[0, kernelWords * 32 - 1].Array[groupSize * groups * Math.Max(flips, 1)]
        from random in Gen.UInt.Array[groupSize * groups * kernelWords]
        from limit in Gen.OneOf(Gen.Const((int?)null), Gen.Int[1, 4].Select(v => (int?)v))
        let channels = Enumerable.Range(0, groupSize * groups).Select(c => flips < 0
            ? random.AsSpan(c * kernelWords, kernelWords).ToArray()
            : Flip(prototypes.AsSpan(picks[c] * kernelWords, kernelWords).ToArray(), positions.AsSpan(c * Math.Max(flips, 1), flips))).ToArray()
        select new Layer(channels, groups, limit);

    private static uint[] Flip(uint[] bits, ReadOnlySpan<int> positions)
    {
        foreach (int p in positions) bits[p / 32] ^= 1u << (p % 32);
        return bits;
    }

    [Fact]
    public void Decode_gives_back_every_kernel_and_the_trees_parents()
    {
        Layers.Sample(l =>
        {
            var tree = l.Tree;
            var image = MstImage.Encode(l.Channels, tree);
            var decoded = MstImage.Decode(image, l.Channels.Length, l.KernelWords);
            Assert.Equal(l.Channels, decoded.Kernels);
            Assert.Equal(tree.Parent, decoded.Parent);
            Assert.Equal(image.Length, decoded.Words);
            Assert.True(image.Length <= MstImage.Capacity(l.Channels.Length, l.KernelWords));

            var size = MstImage.Measure(image, l.Channels.Length);
            Assert.Equal(image.Length, size.Words);
            Assert.Equal(l.Groups, size.Roots);
            // Each child's form follows from its distance to the parent alone.
            int lists = tree.Parent.Select((p, c) => p >= 0 && MstImage.UsesList(tree.Distance[c], l.KernelWords)).Count(b => b);
            Assert.Equal((lists, l.Channels.Length - l.Groups - lists), (size.Lists, size.Masks));
        }, iter: 500);
    }

    // ---- The form rule on hand-made pairs: a zero root and one child with d bits set.

    /// <summary>Channel 0 all zero (the root), channel 1 with the given bit positions set.</summary>
    private static uint[] Pair(int kernelWords, params int[] positions)
    {
        var channels = new[] { new uint[kernelWords], Flip(new uint[kernelWords], positions) };
        return MstImage.Encode(channels, MstPlanner.Build(channels));
    }

    private static uint Header1(int form, int count) => (uint)(form | count << 2);

    [Fact]
    public void Root_record_holds_the_kernel_in_full()
    {
        var image = Pair(2, 33);
        Assert.Equal([0u, Header1(MstImage.FullForm, 2), 0u, 0u], image[..4]);
        // Child 1, parent 0 stored as 0 + 1 in the upper half.
        Assert.Equal(1u | 1u << 16, image[4]);
    }

    [Fact]
    public void No_difference_is_a_list_without_payload()
    {
        var image = Pair(3);
        Assert.Equal(2 + 3 + 2, image.Length);
        Assert.Equal(Header1(MstImage.ListForm, 0), image[^1]);
    }

    [Fact]
    public void List_packs_two_positions_per_word_lower_half_first()
    {
        var image = Pair(4, 65, 3, 40);
        Assert.Equal([Header1(MstImage.ListForm, 3), 3u | 40u << 16, 65u], image[7..]);
    }

    [Fact]
    public void Tie_between_list_and_mask_keeps_the_mask()
    {
        // Four words: six positions take three words (a list), seven or eight take four (a tie: the mask).
        Assert.Equal(Header1(MstImage.ListForm, 6), Pair(4, 0, 1, 2, 3, 4, 5)[7]);
        foreach (var positions in new[] { new[] { 0, 1, 2, 3, 4, 5, 6 }, [0, 1, 2, 3, 4, 5, 6, 7] })
        {
            var image = Pair(4, positions);
            Assert.Equal(Header1(MstImage.MaskForm, 4), image[7]);
            Assert.Equal([(uint)((1 << positions.Length) - 1), 0u, 0u, 0u], image[8..]);
        }
        // One word: only d = 0 is shorter as a list (no payload against one word).
        Assert.Equal(Header1(MstImage.ListForm, 0), Pair(1)[4]);
        Assert.Equal(Header1(MstImage.MaskForm, 1), Pair(1, 31)[4]);
    }

    [Fact]
    public void Positions_fill_16_bits_up_to_65536_kernel_bits_then_only_masks()
    {
        var largest = Pair(2048, 65535);
        Assert.Equal([Header1(MstImage.ListForm, 1), 0xFFFFu], largest[^2..]);
        Assert.Equal(1u << 31, MstImage.Decode(largest, 2, 2048).Kernels[1][2047]);
        var tooLong = Pair(2049, 5);
        Assert.Equal(Header1(MstImage.MaskForm, 2049), tooLong[2 + 2049 + 1]);
        Assert.Equal(2 * (2 + 2049), tooLong.Length);
        Assert.False(MstImage.ListsFit(2049));
    }

    [Fact]
    public void Malformed_images_are_refused()
    {
        var image = Pair(2, 7);
        Assert.Throws<TinyOdlException>(() => MstImage.Decode(image[..^1], 2, 2));
        var wrongForm = (uint[])image.Clone();
        wrongForm[1] = Header1(MstImage.MaskForm, 2);
        Assert.Throws<TinyOdlException>(() => MstImage.Decode(wrongForm, 2, 2));
        var orphan = (uint[])image.Clone();
        orphan[4] = 1u | 3u << 16;
        Assert.Throws<TinyOdlException>(() => MstImage.Decode(orphan, 2, 2));
    }

    [Fact]
    public void More_channels_than_the_header_holds_are_refused()
    {
        Assert.Contains("16-bit", Assert.Throws<TinyOdlException>(() => MstImage.Decode([], MstImage.MaxChannels + 1, 1)).Message);
    }
}
