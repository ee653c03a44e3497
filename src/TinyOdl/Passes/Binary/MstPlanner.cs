using System.Numerics;

namespace TinyOdl.Passes.Binary;

/// <summary>
/// The order in which a binary (XNOR/popcount) layer computes its output channels under MST compression
/// (Vo et al., ICCV 2023). Channel <c>v</c> is computed from <c>Parent[v]</c>'s accumulator instead of from scratch:
/// with <c>D = w_parent XOR w_v</c> and <c>d = popcount(D)</c>,
/// <c>acc_v = acc_parent + d - 2 * sum_words popcount((x XOR w_parent) AND D)</c>,
/// so the work for <c>v</c> is its <see cref="Distance"/> instead of the full kernel length K.
/// </summary>
/// <param name="Parent">The channel each channel is computed from; -1 for the root, which is always channel 0.</param>
/// <param name="Order">
/// The order the planner added the channels: <c>Order[0]</c> is the root and every channel comes after its parent, so
/// evaluating channels in this order always finds the parent's accumulator ready.
/// </param>
/// <param name="Depth">Edges between each channel and the root (root 0): the length of the chain of dependent updates.</param>
/// <param name="Distance">Hamming distance between each channel's kernel and its parent's (0 for the root): the bits the child's update touches.</param>
public sealed record MstTree(int[] Parent, int[] Order, int[] Depth, int[] Distance)
{
    /// <summary>Output channels in the layer.</summary>
    public int Count => Parent.Length;

    /// <summary>Sum of the edge weights: the bit operations per output pixel spent on all channels but the root.</summary>
    public int TotalDistance => Distance.Sum();

    /// <summary>The longest chain of dependent updates; what a <c>max_depth</c> limit bounds.</summary>
    public int MaxDepth => Depth.DefaultIfEmpty().Max();

    /// <summary>
    /// The trees of a grouped layer's groups (each numbering its channels from 0) as one tree over the layer's channels,
    /// as the device stores it: group g's channels at [g * size, ...), one root (parent -1) per group, group-major order.
    /// </summary>
    public static MstTree Join(IReadOnlyList<MstTree> groups)
    {
        var offsets = groups.Select((_, g) => groups.Take(g).Sum(t => t.Count)).ToArray();
        return new MstTree(
            groups.SelectMany((t, g) => t.Parent.Select(p => p < 0 ? -1 : offsets[g] + p)).ToArray(),
            groups.SelectMany((t, g) => t.Order.Select(v => offsets[g] + v)).ToArray(),
            groups.SelectMany(t => t.Depth).ToArray(),
            groups.SelectMany(t => t.Distance).ToArray());
    }
}

/// <summary>
/// What MST compression saves on one binary layer, per output pixel (bit operations) and in weight storage (bits).
/// Formulas (Cout channels, K bits per kernel, d_v the distance of child v to its parent):
/// <list type="bullet">
/// <item><see cref="PlainBitOps"/> = Cout * K; <see cref="MstBitOps"/> = K + sum_v d_v (root in full, then each edge's differing bits).</item>
/// <item><see cref="PlainStorageBits"/> = Cout * K (every kernel bit-packed).</item>
/// <item><see cref="MstStorageBits"/> = the bits of the layer's weight image (<see cref="MstImage"/>, docs/BINARY.md
/// "Stored form"), exactly: K (the root kernel) + sum over children of B_p + 1 + (list ? B_c + d_v * B_k : K), with
/// B_p = ceil(log2(Cout)) the parent index (Cout of the tree: a group's channels), 1 the form bit, and the difference D either as a K-bit mask or as a list
/// of B_c = ceil(log2(K + 1)) bits of count d_v followed by d_v bit positions of B_k = ceil(log2(K)) bits. The list is
/// chosen iff B_c + d_v * B_k &lt; K strictly; on a tie the mask wins because it needs no decoding.</item>
/// </list>
/// Storage can exceed the plain layout (a child far from every other channel pays its parent index and form bit on
/// top of K bits).
/// </summary>
/// <param name="Channels">Cout.</param>
/// <param name="KBits">K, the bits of one kernel.</param>
/// <param name="PlainBitOps">Cout * K.</param>
/// <param name="MstBitOps">K + total tree distance.</param>
/// <param name="PlainStorageBits">Cout * K.</param>
/// <param name="MstStorageBits">The weight image's bits: root kernel plus each child's parent index, form bit and difference (mask or list).</param>
/// <param name="MaskChildren">Children whose difference is stored as a K-bit mask.</param>
/// <param name="ListChildren">Children whose difference is stored as a list of bit positions.</param>
public sealed record MstCost(int Channels, int KBits, long PlainBitOps, long MstBitOps, long PlainStorageBits, long MstStorageBits,
    int MaskChildren, int ListChildren);

/// <summary>
/// Plans MST compression for a binary layer at compile time. Each channel's kernel is a bit vector of K bits packed
/// 32 per word, LSB first (bit 1 = weight -1, unused tail bits 0); the graph has one vertex per output channel and
/// the Hamming distance between two kernels as edge weight.
/// </summary>
public static class MstPlanner
{
    /// <summary>popcount(a XOR b) summed over the words: how many of the two kernels' weights differ in sign.</summary>
    public static int Hamming(ReadOnlySpan<uint> a, ReadOnlySpan<uint> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"bit vectors of {a.Length} and {b.Length} words have no Hamming distance", nameof(b));
        int sum = 0;
        for (int i = 0; i < a.Length; i++) sum += BitOperations.PopCount(a[i] ^ b[i]);
        return sum;
    }

    /// <summary>
    /// Builds the tree with Prim's algorithm in exactly the following form. A C implementation run on the device must
    /// rebuild the identical tree (after on-device training changes the kernels), so these steps, in particular
    /// the tie-breaking rule, are part of the contract and must not be "improved":
    /// <list type="number">
    /// <item>The root is channel 0: inTree[0] = true, depth[0] = 0; for every v != 0, key[v] = dist(0, v), parent[v] = 0.</item>
    /// <item>Cout - 1 times: u = the channel not in the tree with the smallest key. The tie-breaking rule: scan
    /// v = 0..Cout-1 ascending and take v only if key[v] &lt; best strictly, so equal keys go to the smallest index;
    /// and below, a key is replaced only by a strictly smaller distance, so an equally close later channel never
    /// takes over as parent.</item>
    /// <item>Add u (append it to Order), depth[u] = depth[parent[u]] + 1.</item>
    /// <item>Only if <paramref name="maxDepth"/> is null or depth[u] &lt; maxDepth: for every v not in the tree, if
    /// dist(u, v) &lt; key[v] then key[v] = dist(u, v), parent[v] = u.</item>
    /// </list>
    /// Without a limit this is a minimum spanning tree. With a limit L &gt;= 1 no channel ends deeper than L (the root
    /// offers every channel a parent at depth 0), which shortens chains of dependent updates at the price of a total
    /// distance that may exceed the minimum; it is a greedy rule, not the optimal depth-bounded tree.
    /// Distances are computed when needed, not stored: each pair at most once, O(Cout^2 K / 32) word operations and
    /// O(Cout) memory, which is what the device can afford.
    /// </summary>
    /// <param name="channels">One packed kernel per output channel, all of the same word count.</param>
    /// <param name="maxDepth">The longest allowed chain from the root, at least 1; null for no limit.</param>
    /// <summary>One tree per group of a grouped layer (channels in layer order, <paramref name="groups"/> equal runs).</summary>
    public static IReadOnlyList<MstTree> BuildGroups(IReadOnlyList<uint[]> channels, int groups, int? maxDepth = null)
    {
        int size = channels.Count / groups;
        return Enumerable.Range(0, groups).Select(g => Build(channels.Skip(g * size).Take(size).ToArray(), maxDepth)).ToArray();
    }

    public static MstTree Build(IReadOnlyList<uint[]> channels, int? maxDepth = null)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (maxDepth is < 1)
            throw TinyOdlException.At("max_depth", $"must be at least 1, got {maxDepth}: with depth 0 only the root could be in the tree");
        int n = channels.Count;
        if (n == 0) throw TinyOdlException.At("channels", "a binary layer needs at least one output channel");
        int words = channels[0].Length;
        for (int v = 1; v < n; v++)
            if (channels[v].Length != words)
                throw TinyOdlException.At("channels", $"channel {v} packs to {channels[v].Length} words but channel 0 to {words}; every kernel of a layer has the same K");

        var parent = new int[n];
        var order = new int[n];
        var depth = new int[n];
        var distance = new int[n];
        var key = new int[n];
        var inTree = new bool[n];
        parent[0] = -1;
        inTree[0] = true;
        for (int v = 1; v < n; v++) key[v] = Hamming(channels[0], channels[v]);

        for (int added = 1; added < n; added++)
        {
            int u = -1, best = int.MaxValue;
            for (int v = 0; v < n; v++)
                if (!inTree[v] && key[v] < best) { best = key[v]; u = v; }
            inTree[u] = true;
            order[added] = u;
            depth[u] = depth[parent[u]] + 1;
            distance[u] = key[u];
            if (maxDepth is { } limit && depth[u] >= limit) continue;
            for (int v = 0; v < n; v++)
            {
                if (inTree[v]) continue;
                int d = Hamming(channels[u], channels[v]);
                if (d < key[v]) { key[v] = d; parent[v] = u; }
            }
        }
        return new MstTree(parent, order, depth, distance);
    }

    /// <summary>
    /// The savings of <paramref name="tree"/> for kernels of <paramref name="kBits"/> bits; the formulas are on
    /// <see cref="MstCost"/>.
    /// </summary>
    public static MstCost Cost(MstTree tree, int kBits)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (kBits < 1) throw TinyOdlException.At("k_bits", $"must be at least 1, got {kBits}");
        int n = tree.Count;
        long storage = kBits;
        int masks = 0, lists = 0;
        for (int v = 0; v < n; v++)
        {
            if (tree.Parent[v] < 0) continue;
            int d = tree.Distance[v];
            if (d > kBits)
                throw TinyOdlException.At("k_bits", $"channel {v} differs from its parent in {d} bits, more than K = {kBits}; the tree was built for longer kernels");
            if (MstImage.UsesList(d, kBits)) lists++;
            else masks++;
            storage += MstImage.ChildBits(d, n, kBits);
        }
        long plain = (long)n * kBits;
        return new MstCost(n, kBits, plain, kBits + (long)tree.TotalDistance, plain, storage, masks, lists);
    }
}
