namespace TinyOdl.Simulation;

/// <summary>
/// The predecoded-instruction cache: one <see cref="Instruction"/> slot per halfword of the program's code range
/// (its executable ELF segments), filled on first execution. A store into the range clears the slots it may
/// overlap (an instruction starts at most 2 bytes before the first written byte), so self-modifying code and code
/// loaded at run time execute what memory holds; fence.i clears everything. Code outside the range is decoded on
/// every execution.
/// </summary>
public sealed class DecodeCache
{
    public DecodeCache(uint start, uint end)
    {
        Start = start & ~1u;
        End = Math.Max(Start, (end + 1) & ~1u);
        Entries = new Instruction[(End - Start) >> 1];
    }

    public uint Start { get; }
    public uint End { get; }
    /// <summary>Slot i holds the instruction at Start + 2i (<see cref="Op.Undecoded"/> until it is decoded).</summary>
    public Instruction[] Entries { get; }

    /// <summary>Forgets the instructions that may overlap the bytes [address, address + length).</summary>
    public void Invalidate(uint address, uint length)
    {
        ulong lo = address >= 2 ? address - 2u : 0, hi = (ulong)address + length;   // [lo, hi)
        if (hi <= Start || lo >= End) return;
        lo = Math.Max(lo, Start);
        hi = Math.Min(hi, End);
        int first = (int)((lo - Start) >> 1), last = (int)((hi - 1 - Start) >> 1);
        Array.Clear(Entries, first, last - first + 1);
    }

    public void Clear() => Array.Clear(Entries);
}
