using System.Numerics;
using TinyOdl.Graph;

namespace TinyOdl.Passes.Binary;

/// <summary>
/// The stored form of an MST-compressed binary layer (docs/BINARY.md, "Stored form (weight image)"): a dense bit
/// stream holding, per group in channel order, the group's root kernel in full and every other channel as its parent
/// index within the group plus the difference D = w_parent XOR w_child, as a K-bit mask or as a list of D's bit
/// positions, whichever is shorter. Its length is exactly <see cref="MstCost.MstStorageBits"/>. The device writes
/// the same bits (<c>MstLowering.BuildTree</c>) whenever it rebuilds the tree; this class is the C# reference for them
/// and the decoder that proves they hold the weights.
/// </summary>
public static class MstImage
{
    /// <summary>
    /// What fixes a layer's image format: output channels, groups, input channels per group and kernel taps (KH * KW).
    /// Kernels are dense: K = Taps * InPerGroup bits, bit k = tap * InPerGroup + channel-in-group, which is the packed
    /// layout (<see cref="SignPacking"/>) without the zero tail bits of each tap's last word.
    /// </summary>
    public sealed record Layout
    {
        public Layout(int channels, int groups, int inPerGroup, int taps)
        {
            if (channels < 1 || groups < 1 || channels % groups != 0 || inPerGroup < 1 || taps < 1)
                throw TinyOdlException.At("mst image", $"no layout for {channels} channels in {groups} groups of {inPerGroup} inputs and {taps} taps");
            (Channels, Groups, InPerGroup, Taps) = (channels, groups, inPerGroup, taps);
            KBits = checked(taps * inPerGroup);
            CapacityBits = (long)groups * (KBits + (long)(PerGroup - 1) * (ParentBits + 1 + KBits));
            // The device's bit cursor is an int32.
            if (CapacityBits > int.MaxValue - 64)
                throw TinyOdlException.At("mst image", $"{CapacityBits} bits at most do not fit the device's 32-bit bit cursor");
        }

        public static Layout Of(ConvGeometry g) => new(g.OutChannels, g.Groups, g.InPerGroup, g.Window.KernelArea);

        public int Channels { get; }
        public int Groups { get; }
        public int InPerGroup { get; }
        public int Taps { get; }

        /// <summary>n, the output channels of a group.</summary>
        public int PerGroup => Channels / Groups;

        /// <summary>K, the bits of one kernel.</summary>
        public int KBits { get; }

        /// <summary>Packed words per tap (ceil(InPerGroup / 32)) and per kernel.</summary>
        public int SignWords => (InPerGroup + 31) / 32;
        public int KernelWords => Taps * SignWords;

        /// <summary>The bits of packed word j of a tap that hold weights: 32, or the rest of InPerGroup for the last.</summary>
        public int UsedBits(int j) => Math.Min(32, InPerGroup - 32 * j);

        /// <summary>B_p = ceil(log2(n)): a child's parent index within its group.</summary>
        public int ParentBits => CeilLog2(PerGroup);

        /// <summary>B_c = ceil(log2(K + 1)): a list's count d, 0..K.</summary>
        public int CountBits => MstImage.CountBits(KBits);

        /// <summary>B_k = ceil(log2(K)): a list's bit position, 0..K-1.</summary>
        public int PositionBits => MstImage.PositionBits(KBits);

        /// <summary>Bits of the longest image: every child a mask (a list is chosen only when strictly shorter).</summary>
        public long CapacityBits { get; }

        /// <summary>Words of the image tensor: the capacity rounded up to 32-bit words.</summary>
        public int CapacityWords => (int)((CapacityBits + 31) / 32);

        /// <summary><see cref="MstImage.UsesList"/> for this layout's K.</summary>
        public bool UsesList(int d) => MstImage.UsesList(d, KBits);

        /// <summary>The same rule as a bound the device compares with, without a product that could overflow: list iff d &lt; ListBelow.</summary>
        public int ListBelow => KBits - CountBits <= 0 ? 0 : (KBits - CountBits + PositionBits - 1) / PositionBits;

        /// <summary>Dense bit k of a packed kernel.</summary>
        internal bool Bit(uint[] packed, int k) => (packed[k / InPerGroup * SignWords + k % InPerGroup / 32] >> (k % InPerGroup % 32) & 1) != 0;

        /// <summary>Sets dense bit k of a packed kernel to the opposite.</summary>
        internal void Flip(uint[] packed, int k) => packed[k / InPerGroup * SignWords + k % InPerGroup / 32] ^= 1u << (k % InPerGroup % 32);
    }

    /// <summary>ceil(log2(count)): bits to tell <paramref name="count"/> things apart, 0 for a single one.</summary>
    public static int CeilLog2(long count) => count <= 1 ? 0 : BitOperations.Log2((ulong)(count - 1)) + 1;

    /// <summary>B_c = ceil(log2(K + 1)): a list's count d, 0..K.</summary>
    public static int CountBits(int kBits) => CeilLog2(kBits + 1L);

    /// <summary>B_k = ceil(log2(K)): a list's bit position, 0..K-1.</summary>
    public static int PositionBits(int kBits) => CeilLog2(kBits);

    /// <summary>A child whose D has <paramref name="d"/> bits is a list iff B_c + d * B_k &lt; K (strictly: a tie keeps the mask, which needs no decoding).</summary>
    public static bool UsesList(int d, int kBits) => CountBits(kBits) + (long)d * PositionBits(kBits) < kBits;

    /// <summary>
    /// A child's record in a group of <paramref name="perGroup"/> channels: parent index (B_p bits), form bit, then the
    /// mask's K bits or the list's count (B_c) and d positions (B_k each).
    /// </summary>
    public static long ChildBits(int d, int perGroup, int kBits) =>
        CeilLog2(perGroup) + 1 + (UsesList(d, kBits) ? CountBits(kBits) + (long)d * PositionBits(kBits) : kBits);

    /// <summary>An image: <see cref="Bits"/> used bits in whole 32-bit words (bit i = bit i % 32 of word i / 32), the rest of the last word 0.</summary>
    public sealed record Encoded(uint[] Words, int Bits);

    /// <summary>
    /// The image of <paramref name="channels"/> (packed kernels in layer order, tail bits 0) along
    /// <paramref name="tree"/> (global channel indices, each group's first channel its root, as
    /// <see cref="MstTree.Join"/> of <see cref="MstPlanner.BuildGroups"/> gives it).
    /// </summary>
    public static Encoded Encode(IReadOnlyList<uint[]> channels, MstTree tree, Layout layout)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(layout);
        if (channels.Count != layout.Channels || tree.Count != layout.Channels)
            throw TinyOdlException.At("channels", $"{channels.Count} channels and a tree over {tree.Count} for a layout of {layout.Channels}");
        foreach (var (bits, c) in channels.Select((b, c) => (b, c)))
            if (bits.Length != layout.KernelWords)
                throw TinyOdlException.At("channels", $"channel {c} packs to {bits.Length} words, not {layout.KernelWords}");
        int n = layout.PerGroup, k = layout.KBits;
        var writer = new Writer(layout.CapacityWords);
        for (int c = 0; c < layout.Channels; c++)
        {
            int root = c / n * n, p = tree.Parent[c];
            if ((p < 0) != (c == root) || p >= 0 && (p < root || p >= root + n || p == c))
                throw TinyOdlException.At("tree", $"channel {c} has parent {p}: each group's first channel must be its root and parents stay in the group");
            if (p < 0)
            {
                for (int i = 0; i < k; i++) writer.Put(layout.Bit(channels[c], i) ? 1u : 0u, 1);
                continue;
            }
            var diff = Enumerable.Range(0, k).Where(i => layout.Bit(channels[c], i) != layout.Bit(channels[p], i)).ToArray();
            bool list = layout.UsesList(diff.Length);
            writer.Put((uint)(p - root), layout.ParentBits);
            writer.Put(list ? 1u : 0u, 1);
            if (!list)
            {
                for (int i = 0, at = 0; i < k; i++)
                {
                    bool set = at < diff.Length && diff[at] == i;
                    if (set) at++;
                    writer.Put(set ? 1u : 0u, 1);
                }
                continue;
            }
            writer.Put((uint)diff.Length, layout.CountBits);
            foreach (int i in diff) writer.Put((uint)i, layout.PositionBits);
        }
        return writer.Finish();
    }

    /// <summary>A decoded image: each channel's packed kernel, its parent (-1 for a group root), the bits read and the forms taken.</summary>
    public sealed record Decoded(uint[][] Kernels, int[] Parent, int Bits, int Masks, int Lists);

    /// <summary>
    /// The packed kernels back from an image (bits after the layer's records are ignored). All records are read first,
    /// then each kernel is its parent's XOR D, parents resolved before children; a malformed or non-canonical image
    /// (a parent outside the group or a cycle, a form the rule would not pick, positions not ascending or beyond K,
    /// the stream ending early) throws.
    /// </summary>
    public static Decoded Decode(ReadOnlySpan<uint> image, Layout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int n = layout.PerGroup, k = layout.KBits;
        var reader = new Reader(image);
        var parent = new int[layout.Channels];
        var own = new uint[layout.Channels][];
        int masks = 0, lists = 0;
        for (int c = 0; c < layout.Channels; c++)
        {
            int root = c / n * n;
            var bits = own[c] = new uint[layout.KernelWords];
            if (c == root)
            {
                parent[c] = -1;
                for (int i = 0; i < k; i++)
                    if (reader.Get(1) != 0) layout.Flip(bits, i);
                continue;
            }
            int index = (int)reader.Get(layout.ParentBits);
            if (index >= n || root + index == c) throw Malformed($"channel {c}: parent index {index} in a group of {n}");
            parent[c] = root + index;
            if (reader.Get(1) == 0)
            {
                masks++;
                int d = 0;
                for (int i = 0; i < k; i++)
                    if (reader.Get(1) != 0) { layout.Flip(bits, i); d++; }
                if (layout.UsesList(d)) throw Malformed($"channel {c}: a mask of {d} bits, which the list form stores shorter");
                continue;
            }
            lists++;
            int count = (int)reader.Get(layout.CountBits);
            if (count > k || !layout.UsesList(count)) throw Malformed($"channel {c}: a list of {count} positions for K = {k}");
            for (int i = 0, last = -1; i < count; i++)
            {
                int position = (int)reader.Get(layout.PositionBits);
                if (position <= last || position >= k) throw Malformed($"channel {c}: position {position} after {last}, K = {k}");
                layout.Flip(bits, last = position);
            }
        }

        // Each kernel is its parent's XOR its own D: walk up to a resolved ancestor, then down.
        var kernels = new uint[layout.Channels][];
        for (int c = 0; c < layout.Channels; c++)
        {
            var chain = new List<int>();
            for (int v = c; kernels[v] is null; v = parent[v])
            {
                if (chain.Count > n) throw Malformed($"channel {c}: its parents form a cycle");
                chain.Add(v);
                if (parent[v] < 0) break;
            }
            for (int i = chain.Count - 1; i >= 0; i--)
            {
                int v = chain[i];
                kernels[v] = parent[v] < 0 ? own[v] : kernels[parent[v]].Zip(own[v], (a, b) => a ^ b).ToArray();
            }
        }
        return new Decoded(kernels, parent, reader.Position, masks, lists);
    }

    /// <summary>What an image holds: its bits and how many children take each form.</summary>
    public sealed record Size(int Bits, int Masks, int Lists)
    {
        /// <summary>Bytes as stored: whole 32-bit words.</summary>
        public long Bytes => (Bits + 31L) / 32 * 4;
    }

    /// <summary>Reads the layer's records of an encoded or a device image.</summary>
    public static Size Measure(ReadOnlySpan<uint> image, Layout layout)
    {
        var decoded = Decode(image, layout);
        return new Size(decoded.Bits, decoded.Masks, decoded.Lists);
    }

    /// <summary>Fields LSB first into a zeroed word array, as the device's put(value, width).</summary>
    private sealed class Writer(int words)
    {
        private readonly uint[] _words = new uint[words];
        private int _cursor;

        public void Put(uint value, int width)
        {
            for (int b = 0; b < width; b++, _cursor++)
                _words[_cursor / 32] |= (value >> b & 1) << (_cursor % 32);
        }

        public Encoded Finish() => new(_words[..((_cursor + 31) / 32)], _cursor);
    }

    private ref struct Reader(ReadOnlySpan<uint> words)
    {
        private readonly ReadOnlySpan<uint> _words = words;

        public int Position { get; private set; }

        public uint Get(int width)
        {
            uint value = 0;
            for (int b = 0; b < width; b++, Position++)
            {
                if (Position >= _words.Length * 32L) throw Malformed($"the image ends at bit {Position}");
                value |= (_words[Position / 32] >> (Position % 32) & 1) << b;
            }
            return value;
        }
    }

    private static TinyOdlException Malformed(string why) => TinyOdlException.At("mst image", why);
}
