using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// Compile-time arena offsets for every tensor of the training step that is not supplied by the caller.
/// Parameters, optimizer state and the loss live for the whole program; every other tensor lives from the op that
/// first writes it to the op that last touches it, and tensors whose lifetimes do not overlap share memory.
/// Offsets come from greedy-by-size placement (largest first, lowest offset that fits); the report compares the
/// arena with the lower bound, the largest sum of simultaneously live bytes.
/// </summary>
public sealed class MemoryPlan
{
    /// <summary>Every slot starts on this boundary (enough for any scalar type and for vector loads).</summary>
    public const int Alignment = 16;

    private readonly Dictionary<TrainingTensor, int> _offsets;

    private MemoryPlan(Dictionary<TrainingTensor, int> offsets, int arenaBytes, IReadOnlyDictionary<TensorRole, long> bytesByRole,
        long lowerBound, IReadOnlyList<TrainingTensor> liveAtPeak)
    {
        _offsets = offsets;
        ArenaBytes = arenaBytes;
        BytesByRole = bytesByRole;
        LowerBoundBytes = lowerBound;
        LiveAtPeak = liveAtPeak;
    }

    public int ArenaBytes { get; }

    /// <summary>Bytes each role would take without sharing (the sum of its tensors).</summary>
    public IReadOnlyDictionary<TensorRole, long> BytesByRole { get; }

    /// <summary>No placement can use less: the most bytes (aligned) live at any one op.</summary>
    public long LowerBoundBytes { get; }

    /// <summary>The tensors live at the op where the lower bound is reached, largest first.</summary>
    public IReadOnlyList<TrainingTensor> LiveAtPeak { get; }

    public int OffsetOf(TrainingTensor t) =>
        _offsets.TryGetValue(t, out int o) ? o : throw new InvalidOperationException($"tensor {t.Name} has no arena slot");

    /// <summary>Whether a tensor keeps its value between training steps (and so never shares memory).</summary>
    public static bool IsPersistent(TrainingTensor t) => t.Role is TensorRole.Parameter or TensorRole.OptimizerState or TensorRole.LayerState or TensorRole.Loss;

    /// <param name="share">
    /// False gives every tensor its own slot for the whole program, so all intermediate values (gradients, for one)
    /// can still be read after a step: for tests and debugging; the arithmetic is the same.
    /// </param>
    public static MemoryPlan Build(TrainingGraph graph, bool share = true)
    {
        var tensors = graph.Tensors.Where(t => t.InArena).ToArray();
        // Time in half steps: op i reads at 2i and writes at 2i + 1. A tensor read last by an element-wise op ends at
        // its read, so the op's output may reuse its bytes (in place); any other op's inputs live through its writes.
        int end = 2 * graph.Ops.Count;
        var first = new Dictionary<TrainingTensor, int>();
        var last = new Dictionary<TrainingTensor, int>();
        for (int i = 0; i < graph.Ops.Count; i++)
        {
            var op = graph.Ops[i];
            foreach (var t in op.Reads)
            {
                first.TryAdd(t, 2 * i);
                last[t] = op.IsElementwise ? 2 * i : 2 * i + 1;
            }
            foreach (var t in op.Writes)
            {
                first.TryAdd(t, 2 * i + 1);
                last[t] = 2 * i + 1;
            }
        }
        (int From, int To) Interval(TrainingTensor t) =>
            !share || IsPersistent(t) || !first.ContainsKey(t) ? (0, end) : (first[t], last[t]);

        var byRole = tensors.GroupBy(t => t.Role).ToDictionary(g => g.Key, g => g.Sum(t => t.Bytes));

        // Greedy by size: place each tensor at the lowest aligned offset free of every overlapping placed tensor.
        var placed = new List<(TrainingTensor T, long Offset, long Size, int From, int To)>();
        long arena = 0;
        foreach (var t in tensors.OrderByDescending(t => AlignUp(t.Bytes)).ThenBy(t => Interval(t).From))
        {
            long size = AlignUp(t.Bytes);
            var (from, to) = Interval(t);
            long offset = 0;
            foreach (var p in placed.Where(p => p.From <= to && from <= p.To).OrderBy(p => p.Offset))
            {
                if (offset + size <= p.Offset) break;
                offset = Math.Max(offset, p.Offset + p.Size);
            }
            placed.Add((t, offset, size, from, to));
            arena = Math.Max(arena, offset + size);
        }
        if (arena > int.MaxValue) throw TinyOdlException.At($"model '{graph.Model.Name}'", "the arena exceeds 2 GiB");

        long bound = 0;
        int peak = 0;
        for (int i = 0; i <= end; i++)
        {
            long live = placed.Where(p => p.From <= i && i <= p.To).Sum(p => p.Size);
            if (live > bound) (bound, peak) = (live, i);
        }
        var liveAtPeak = placed.Where(p => p.From <= peak && peak <= p.To).OrderByDescending(p => p.Size).Select(p => p.T).ToArray();
        return new MemoryPlan(placed.ToDictionary(p => p.T, p => (int)p.Offset), (int)arena, byRole, bound, liveAtPeak);
    }

    private static long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;
}
