using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyOdl.Simulation;

/// <summary>
/// The board's RAM (memory.ram in board.json): the only memory the simulated machine has. Zero at reset, like
/// QEMU's. Little-endian; misaligned accesses are allowed (QEMU 7.2 performs them for ordinary loads and stores);
/// an access that does not lie entirely inside RAM is an access fault.
/// </summary>
public sealed class Ram
{
    public Ram(uint origin, uint size)
    {
        if (size == 0 || (ulong)origin + size > 1UL << 32)
            throw new TinyOdlException($"RAM at 0x{origin:x8} of {size} bytes does not fit the 32-bit address space");
        Origin = origin;
        Size = size;
        Bytes = new byte[size];
    }

    public uint Origin { get; }
    public uint Size { get; }
    public byte[] Bytes { get; }

    /// <summary>Whether [address, address + length) lies in RAM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(uint address, uint length) => length <= Size && address - Origin <= Size - length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte At(uint address) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Bytes), (nint)(address - Origin));

    /// <summary>Unchecked reads and writes: the caller has checked <see cref="Contains"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(uint address) where T : unmanaged => Unsafe.ReadUnaligned<T>(ref At(address));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<T>(uint address, T value) where T : unmanaged => Unsafe.WriteUnaligned(ref At(address), value);

    /// <summary>Copies bytes in (ELF loading); false if they do not fit.</summary>
    public bool TryLoad(uint address, ReadOnlySpan<byte> data)
    {
        if (!Contains(address, (uint)data.Length)) return false;
        data.CopyTo(Bytes.AsSpan((int)(address - Origin)));
        return true;
    }

    /// <summary>A NUL-terminated string starting at <paramref name="address"/> (at most <paramref name="limit"/> bytes); null if it leaves RAM.</summary>
    public byte[]? ReadCString(uint address, int limit = 1 << 20)
    {
        var result = new List<byte>();
        for (int n = 0; n < limit; n++)
        {
            if (!Contains(address, 1)) return null;
            byte b = Read<byte>(address++);
            if (b == 0) return result.ToArray();
            result.Add(b);
        }
        return result.ToArray();
    }
}
