using System.Numerics;
using CsCheck;
using TinyOdl.Passes.Binary;

namespace TinyOdl.Tests.Unit;

/// <summary>
/// The MST-compression planner: hand-built trees that pin the tie-breaking rule the device code must repeat,
/// random channel sets checked against an independent Kruskal MST, and the accumulator identity the generated code
/// relies on (a child's popcount from its parent's).
/// </summary>
public class MstPlannerTests
{
    /// <summary>One-word kernels, written as binary literals for readability.</summary>
    private static uint[][] Kernels(params uint[] words) => words.Select(w => new[] { w }).ToArray();

    // ---- Hand-built trees.

    /// <summary>Every field of a hand-worked tree, and the totals that follow from them.</summary>
    private static void AssertTree(MstTree t, int[] parent, int[] order, int[] depth, int[] distance)
    {
        Assert.Equal(parent, t.Parent);
        Assert.Equal(order, t.Order);
        Assert.Equal(depth, t.Depth);
        Assert.Equal(distance, t.Distance);
        Assert.Equal((distance.Sum(), depth.Max(), parent.Length), (t.TotalDistance, t.MaxDepth, t.Count));
    }

    /// <summary>
    /// d(0,1)=1, d(0,2)=2, d(1,2)=1, d(0,3)=4, d(1,3)=5, d(2,3)=6: channel 2 hangs off channel 1, channel 3 off the root.
    /// </summary>
    private static readonly uint[][] Chain = Kernels(0b0000_0000, 0b0000_0001, 0b0000_0011, 0b1111_0000);

    [Fact]
    public void Unbounded_tree_follows_the_nearest_channel()
    {
        var t = MstPlanner.Build(Chain);
        AssertTree(t, parent: [-1, 0, 1, 0], order: [0, 1, 2, 3], depth: [0, 1, 2, 1], distance: [0, 1, 1, 4]);
        Assert.Equal((6, 2), (t.TotalDistance, t.MaxDepth));
    }

    [Fact]
    public void Depth_limit_one_hangs_every_channel_off_the_root()
    {
        var t = MstPlanner.Build(Chain, maxDepth: 1);
        AssertTree(t, parent: [-1, 0, 0, 0], order: [0, 1, 2, 3], depth: [0, 1, 1, 1], distance: [0, 1, 2, 4]);
        Assert.Equal(7, t.TotalDistance);
        Assert.Equal(MstPlanner.Build(Chain).Parent, MstPlanner.Build(Chain, maxDepth: 2).Parent);
    }

    [Fact]
    public void Depth_limit_two_moves_the_deep_end_of_a_path()
    {
        // A path 0 - 1 - 2 - 3 (each one bit from the next, farther from the others): limit 2 reattaches channel 3.
        var path = Kernels(0b000, 0b001, 0b011, 0b111);
        Assert.Equal([-1, 0, 1, 2], MstPlanner.Build(path).Parent);
        AssertTree(MstPlanner.Build(path, maxDepth: 2), parent: [-1, 0, 1, 1], order: [0, 1, 2, 3], depth: [0, 1, 2, 2], distance: [0, 1, 1, 2]);
    }

    [Fact]
    public void Equal_keys_go_to_the_smallest_index_and_equal_distances_keep_the_first_parent()
    {
        // Every pair is 2 bits apart: a non-strict comparison would build a chain; the rule keeps the star.
        AssertTree(MstPlanner.Build(Kernels(0b0000, 0b0011, 0b0101, 0b0110)),
            parent: [-1, 0, 0, 0], order: [0, 1, 2, 3], depth: [0, 1, 1, 1], distance: [0, 2, 2, 2]);
    }

    [Fact]
    public void Ties_decide_the_order_and_the_parent()
    {
        // Keys after the root: 1:3, 2:1, 3:1. Channels 2 and 3 tie: 2 goes first and offers 1 a distance of 2.
        // Channel 3 (added next) is also 2 from channel 1: not strictly closer, so channel 1 stays with 2.
        AssertTree(MstPlanner.Build(Kernels(0b000, 0b111, 0b001, 0b010)),
            parent: [-1, 2, 0, 0], order: [0, 2, 3, 1], depth: [0, 2, 1, 1], distance: [0, 2, 1, 1]);
    }

    [Fact]
    public void A_single_channel_is_a_root_alone()
    {
        foreach (int? limit in new int?[] { null, 1, 5 })
            AssertTree(MstPlanner.Build([new uint[] { 0xDEADBEEF, 0x7 }], limit), parent: [-1], order: [0], depth: [0], distance: [0]);
    }

    [Fact]
    public void Hamming_counts_differing_bits_across_words()
    {
        Assert.Equal(40, MstPlanner.Hamming([0xFFFF_FFFFu, 0xFFu], [0u, 0u]));
        Assert.Equal(2, MstPlanner.Hamming([0x8000_0000u, 1u], [0u, 0u]));
        Assert.Equal(0, MstPlanner.Hamming([0x1234_5678u], [0x1234_5678u]));
        Assert.Equal(0, MstPlanner.Hamming([], []));
        Assert.Throws<ArgumentException>(() => MstPlanner.Hamming([1u], [1u, 0u]));
    }

    // ---- Cost.

    [Fact]
    public void Cost_counts_bit_operations_and_picks_the_smaller_difference_form()
    {
        // Cout 4, K 8: parent index 2 bits, form bit, count ceil(log2 9) = 4 bits, positions 3 bits. Children d=1, 1
        // (lists of 4 + 3 = 7 < 8 bits) and d=4 (a list of 4 + 12 bits > the mask of 8).
        var cost = MstPlanner.Cost(MstPlanner.Build(Chain), 8);
        Assert.Equal(new MstCost(Channels: 4, KBits: 8, PlainBitOps: 32, MstBitOps: 8 + 6, PlainStorageBits: 32,
            MstStorageBits: 8 + (2 + 1 + 4 + 3) + (2 + 1 + 4 + 3) + (2 + 1 + 8), MaskChildren: 1, ListChildren: 2), cost);
    }

    [Fact]
    public void Cost_prefers_the_mask_on_a_tie_and_can_exceed_plain_storage()
    {
        // K 12: count ceil(log2 13) = 4 bits, positions 4 bits, so a list of 2 positions is 4 + 8 = 12 bits, as long
        // as the mask. Cout 2: parent index 1 bit, then the form bit.
        var cost = MstPlanner.Cost(MstPlanner.Build(Kernels(0x000, 0x003)), 12);
        Assert.Equal(new MstCost(2, 12, 24, 14, 24, 12 + 1 + 1 + 12, MaskChildren: 1, ListChildren: 0), cost);
        // One bit fewer is a list: 1 + 1 + 4 + 4.
        Assert.Equal(12 + 1 + 1 + 4 + 4, MstPlanner.Cost(MstPlanner.Build(Kernels(0x000, 0x001)), 12).MstStorageBits);
        var single = MstPlanner.Cost(MstPlanner.Build(Kernels(0b1)), 1);
        Assert.Equal(new MstCost(1, 1, 1, 1, 1, 1, 0, 0), single);
    }

    // ---- Bad inputs.

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Depth_limit_below_one_is_rejected(int limit)
    {
        var e = Assert.Throws<TinyOdlException>(() => MstPlanner.Build(Chain, limit));
        Assert.StartsWith("max_depth:", e.Message);
        Assert.Contains($"got {limit}", e.Message);
    }

    [Fact]
    public void Channels_of_unequal_word_counts_are_rejected()
    {
        var e = Assert.Throws<TinyOdlException>(() => MstPlanner.Build([new uint[2], new uint[2], new uint[1]]));
        Assert.StartsWith("channels:", e.Message);
        Assert.Contains("channel 2 packs to 1 words but channel 0 to 2", e.Message);
        Assert.StartsWith("channels:", Assert.Throws<TinyOdlException>(() => MstPlanner.Build([])).Message);
    }

    [Fact]
    public void Cost_rejects_a_kernel_length_that_cannot_be_right()
    {
        var tree = MstPlanner.Build(Chain);
        Assert.StartsWith("k_bits:", Assert.Throws<TinyOdlException>(() => MstPlanner.Cost(tree, 0)).Message);
        var e = Assert.Throws<TinyOdlException>(() => MstPlanner.Cost(tree, 3));
        Assert.StartsWith("k_bits:", e.Message);
        Assert.Contains("channel 3 differs from its parent in 4 bits", e.Message);
    }

    // ---- Random channel sets.

    /// <summary>
    /// Cout kernels of K bits. Sparsity s ANDs s+1 random words together (bit density 2^-(s+1)), so small distances
    /// and ties, the cases the tie-breaking rule is about, come up often.
    /// </summary>
    public sealed record ChannelSet(int K, int Sparsity, uint[][] Channels)
    {
        public int Words => (K + 31) / 32;
        public override string ToString() =>
            $"K={K} sparsity={Sparsity} channels=[{string.Join(", ", Channels.Select(c => string.Join(":", c.Select(w => w.ToString("X8")))))}]";
    }

    private static uint TailMask(int k) => k % 32 == 0 ? uint.MaxValue : (1u << (k % 32)) - 1;

    /// <summary>Packs <paramref name="count"/> vectors of K bits from random words, tail bits cleared.</summary>
    private static uint[][] Pack(uint[] raw, int count, int k, int sparsity)
    {
        int words = (k + 31) / 32, per = sparsity + 1;
        var result = new uint[count][];
        for (int c = 0; c < count; c++)
        {
            result[c] = new uint[words];
            for (int w = 0; w < words; w++)
            {
                uint word = uint.MaxValue;
                for (int s = 0; s < per; s++) word &= raw[(c * words + w) * per + s];
                result[c][w] = w == words - 1 ? word & TailMask(k) : word;
            }
        }
        return result;
    }

    private static readonly Gen<ChannelSet> Sets =
        from cout in Gen.Int[1, 40]
        from k in Gen.Int[1, 300]
        from sparsity in Gen.Int[0, 3]
        from raw in Gen.UInt.Array[cout * ((k + 31) / 32) * (sparsity + 1)]
        select new ChannelSet(k, sparsity, Pack(raw, cout, k, sparsity));

    /// <summary>Bit by bit, so the tests do not trust the planner's popcount.</summary>
    private static int NaiveHamming(uint[] a, uint[] b)
    {
        int d = 0;
        for (int w = 0; w < a.Length; w++)
            for (int bit = 0; bit < 32; bit++)
                d += (int)(((a[w] ^ b[w]) >> bit) & 1);
        return d;
    }

    /// <summary>Kruskal with union-find (path halving, union by size): the MST weight, by a different algorithm.</summary>
    private static int KruskalWeight(uint[][] channels)
    {
        int n = channels.Length;
        var edges = new List<(int W, int A, int B)>();
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                edges.Add((NaiveHamming(channels[a], channels[b]), a, b));
        edges.Sort((x, y) => x.W.CompareTo(y.W));
        var root = Enumerable.Range(0, n).ToArray();
        var size = Enumerable.Repeat(1, n).ToArray();
        int Find(int v)
        {
            while (root[v] != v) v = root[v] = root[root[v]];
            return v;
        }
        int total = 0, joined = 0;
        foreach (var (w, a, b) in edges)
        {
            int ra = Find(a), rb = Find(b);
            if (ra == rb) continue;
            if (size[ra] < size[rb]) (ra, rb) = (rb, ra);
            root[rb] = ra;
            size[ra] += size[rb];
            total += w;
            joined++;
        }
        Assert.Equal(n - 1, joined);
        return total;
    }

    /// <summary>Parents form a tree rooted at channel 0, Order is a topological order, Depth and Distance agree with them.</summary>
    private static void AssertSpanningTree(MstTree t, uint[][] channels)
    {
        int n = channels.Length;
        Assert.Equal(n, t.Count);
        Assert.Equal(n, t.Order.Length);
        Assert.Equal(n, t.Depth.Length);
        Assert.Equal(n, t.Distance.Length);
        Assert.Equal(0, t.Order[0]);
        Assert.Equal(-1, t.Parent[0]);
        Assert.Equal(0, t.Depth[0]);
        Assert.Equal(0, t.Distance[0]);
        var position = new int[n];
        Array.Fill(position, -1);
        for (int i = 0; i < n; i++)
        {
            Assert.InRange(t.Order[i], 0, n - 1);
            Assert.Equal(-1, position[t.Order[i]]);
            position[t.Order[i]] = i;
        }
        for (int v = 1; v < n; v++)
        {
            int p = t.Parent[v];
            Assert.InRange(p, 0, n - 1);
            Assert.True(position[p] < position[v], $"channel {v} comes before its parent {p} in Order");
            Assert.Equal(t.Depth[p] + 1, t.Depth[v]);
            Assert.Equal(NaiveHamming(channels[p], channels[v]), t.Distance[v]);
        }
        Assert.Equal(t.Distance.Sum(), t.TotalDistance);
        Assert.Equal(t.Depth.Max(), t.MaxDepth);
    }

    [Fact]
    public void Random_sets_give_a_minimum_spanning_tree()
    {
        Sets.Sample(s =>
        {
            var t = MstPlanner.Build(s.Channels);
            AssertSpanningTree(t, s.Channels);
            Assert.Equal(KruskalWeight(s.Channels), t.TotalDistance);
            for (int v = 1; v < s.Channels.Length; v++)
                Assert.Equal(NaiveHamming(s.Channels[0], s.Channels[v]), MstPlanner.Hamming(s.Channels[0], s.Channels[v]));
        }, iter: 400);
    }

    [Fact]
    public void Random_sets_under_a_depth_limit_stay_within_it()
    {
        var cases = from s in Sets from limit in Gen.Int[1, 6] select (Set: s, Limit: limit);
        cases.Sample(c =>
        {
            var free = MstPlanner.Build(c.Set.Channels);
            var t = MstPlanner.Build(c.Set.Channels, c.Limit);
            AssertSpanningTree(t, c.Set.Channels);
            Assert.True(t.MaxDepth <= c.Limit, $"max depth {t.MaxDepth} > limit {c.Limit}");
            Assert.True(t.TotalDistance >= free.TotalDistance, $"limited {t.TotalDistance} < unbounded {free.TotalDistance}");
            // A limit the unbounded tree already meets changes nothing: only relaxations it never used are skipped.
            if (free.MaxDepth <= c.Limit)
            {
                Assert.Equal(free.Parent, t.Parent);
                Assert.Equal(free.Order, t.Order);
            }
        }, iter: 400);
    }

    /// <summary>sum_words popcount(x XOR w): the XNOR-popcount accumulator of one channel.</summary>
    private static int Accumulator(uint[] x, uint[] w)
    {
        int acc = 0;
        for (int i = 0; i < x.Length; i++) acc += BitOperations.PopCount(x[i] ^ w[i]);
        return acc;
    }

    [Fact]
    public void Children_computed_from_parents_match_the_full_popcount()
    {
        var cases =
            from s in Sets
            from xRaw in Gen.UInt.Array[(s.K + 31) / 32]
            from limit in Gen.Int[0, 4]
            select (Set: s, X: Pack(xRaw, 1, s.K, 0)[0], Limit: limit == 0 ? (int?)null : limit);
        cases.Sample(c =>
        {
            var w = c.Set.Channels;
            var t = MstPlanner.Build(w, c.Limit);
            var acc = new int[w.Length];
            acc[t.Order[0]] = Accumulator(c.X, w[t.Order[0]]);
            foreach (int v in t.Order.Skip(1))
            {
                int p = t.Parent[v], d = 0, flipped = 0;
                for (int i = 0; i < c.X.Length; i++)
                {
                    uint diff = w[p][i] ^ w[v][i];
                    d += BitOperations.PopCount(diff);
                    flipped += BitOperations.PopCount((c.X[i] ^ w[p][i]) & diff);
                }
                Assert.Equal(t.Distance[v], d);
                acc[v] = acc[p] + d - 2 * flipped;
            }
            for (int v = 0; v < w.Length; v++)
                Assert.True(Accumulator(c.X, w[v]) == acc[v], $"channel {v}: tree gives {acc[v]}, full popcount {Accumulator(c.X, w[v])}");
        }, iter: 400);
    }
}
