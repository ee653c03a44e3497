using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// Compile-time arena offsets for every tensor of the training step that is not supplied by the caller.
/// This first planner gives each tensor its own slot (no reuse), so the arena size is the plain sum;
/// the report groups bytes by role so firmware engineers see where RAM goes.
/// </summary>
public sealed class MemoryPlan
{
    /// <summary>Every slot starts on this boundary (enough for any scalar type and for later vector loads).</summary>
    public const int Alignment = 16;

    private readonly Dictionary<TrainingTensor, int> _offsets;

    private MemoryPlan(Dictionary<TrainingTensor, int> offsets, int arenaBytes, IReadOnlyDictionary<TensorRole, int> bytesByRole)
    {
        _offsets = offsets;
        ArenaBytes = arenaBytes;
        BytesByRole = bytesByRole;
    }

    public int ArenaBytes { get; }
    public IReadOnlyDictionary<TensorRole, int> BytesByRole { get; }

    public int OffsetOf(TrainingTensor t) =>
        _offsets.TryGetValue(t, out int o) ? o : throw new InvalidOperationException($"tensor {t.Name} has no arena slot");

    public static MemoryPlan Build(TrainingGraph graph)
    {
        var offsets = new Dictionary<TrainingTensor, int>();
        var byRole = new Dictionary<TensorRole, int>();
        long next = 0;
        foreach (var t in graph.Tensors.Where(t => !t.IsExternal))
        {
            offsets[t] = (int)next;
            long bytes = (long)t.Elements * t.Type.SizeInBytes();
            byRole[t.Role] = (int)(byRole.GetValueOrDefault(t.Role) + bytes);
            next = AlignUp(next + bytes);
            if (next > int.MaxValue) throw TinyOdlException.At($"tensor '{t.Name}'", "the arena exceeds 2 GiB");
        }
        return new MemoryPlan(offsets, (int)next, byRole);
    }

    private static long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;
}
