using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyOdl.Evaluation;

/// <summary>
/// The evaluator's view of one kernel invocation: local slots and, per kernel parameter, the byte storage
/// and offset it is bound to. Every access is bounds-checked against the parameter's declared length,
/// so a lowering that indexes out of its buffer fails loudly here rather than corrupting the arena.
/// </summary>
internal sealed class Frame(int slots, int parameters)
{
    public static readonly float CanonicalNaN = BitConverter.UInt32BitsToSingle(0x7FC00000);

    public readonly float[] Floats = new float[slots];
    public readonly int[] Ints = new int[slots];
    public readonly byte[][] Storage = new byte[parameters][];
    public readonly int[] Offsets = new int[parameters];
    public readonly int[] Lengths = new int[parameters];
    public readonly string[] Names = new string[parameters];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float LoadF32(int p, int i) => Unsafe.ReadUnaligned<float>(ref Element(p, i, 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort LoadF16(int p, int i) => Unsafe.ReadUnaligned<ushort>(ref Element(p, i, 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreF16(int p, int i, ushort v) => Unsafe.WriteUnaligned(ref Element(p, i, 2), v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LoadI32(int p, int i) => Unsafe.ReadUnaligned<int>(ref Element(p, i, 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreF32(int p, int i, float v) => Unsafe.WriteUnaligned(ref Element(p, i, 4), v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreI32(int p, int i, int v) => Unsafe.WriteUnaligned(ref Element(p, i, 4), v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte Element(int p, int i, int size)
    {
        if ((uint)i >= (uint)Lengths[p])
            throw new IndexOutOfRangeException($"evaluator: {Names[p]}[{i}] is outside its {Lengths[p]} elements");
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Storage[p]), Offsets[p] + i * size);
    }
}

/// <summary>A kernel ready to run: its delegate tree and the number of local slots it needs.</summary>
internal sealed class CompiledKernel(Kernels.Kernel kernel, Action<Frame> body, int slots)
{
    private readonly Frame _frame = new(slots, kernel.Parameters.Count);

    public Kernels.Kernel Kernel { get; } = kernel;

    public void Run(ReadOnlySpan<(byte[] Storage, int Offset)> bindings)
    {
        for (int p = 0; p < bindings.Length; p++)
        {
            _frame.Storage[p] = bindings[p].Storage;
            _frame.Offsets[p] = bindings[p].Offset;
            _frame.Lengths[p] = Kernel.Parameters[p].Length;
            _frame.Names[p] = Kernel.Parameters[p].Name;
        }
        body(_frame);
    }
}
