namespace TinyOdl.Graph;

/// <summary>
/// SplitMix64: a tiny, fully specified generator, so initial weights are reproducible across .NET versions
/// (System.Random's sequence is not part of its contract).
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 random bits, so every value is an exact float.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [-bound, bound).</summary>
    public float NextSymmetric(float bound) => (2f * NextFloat() - 1f) * bound;

    public int NextInt(int exclusiveMax) => (int)(NextUInt64() % (ulong)exclusiveMax);
}
