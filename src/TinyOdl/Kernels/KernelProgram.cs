namespace TinyOdl.Kernels;

/// <summary>Where a buffer of the program lives.</summary>
public enum BufferStorage
{
    /// <summary>At a fixed offset in the static arena.</summary>
    Arena,
    /// <summary>Read-only data in the program image (initial weights).</summary>
    Constant,
    /// <summary>Passed in by the caller of an entry point (input, target, output).</summary>
    External,
}

/// <summary>A named array of scalars the program's kernels read and write.</summary>
public sealed class ProgramBuffer
{
    private ProgramBuffer(string name, ScalarType element, int length, BufferStorage storage, int offset, IReadOnlyList<float>? data, bool exported = false)
    {
        Exported = exported;
        Name = name;
        Element = element;
        Length = length;
        Storage = storage;
        Offset = offset;
        Data = data;
    }

    public string Name { get; }
    public ScalarType Element { get; }
    public int Length { get; }
    public BufferStorage Storage { get; }
    /// <summary>Byte offset in the arena (Arena storage only).</summary>
    public int Offset { get; }
    /// <summary>Contents (Constant storage only), exact values (for f16 buffers, the floats equal to the halves).</summary>
    public IReadOnlyList<float>? Data { get; }
    public int Bytes => Length * Element.SizeInBytes();
    /// <summary>A constant other translation units refer to by name (a frozen parameter, for the parameter table).</summary>
    public bool Exported { get; }

    public static ProgramBuffer InArena(string name, ScalarType element, int length, int offset) =>
        new(name, element, length, BufferStorage.Arena, offset, null);
    /// <summary>Read-only data; for f16 every value must be exactly representable in binary16.</summary>
    public static ProgramBuffer Constant(string name, ScalarType element, IReadOnlyList<float> data, bool exported = false) =>
        new(name, element, data.Count, BufferStorage.Constant, -1, data, exported);
    public static ProgramBuffer External(string name, ScalarType element, int length) =>
        new(name, element, length, BufferStorage.External, -1, null);

    public override string ToString() => Name;
}

/// <summary>
/// One kernel invocation; arguments bind the kernel's parameters in order. <see cref="Comment"/> names the
/// layer and pass (it is also the profiling region's name); <see cref="Macs"/> counts the multiply-accumulates
/// of the layer's mathematics (0 for element-wise work).
/// </summary>
/// <param name="BitMacs">The MACs are 1-bit multiply-accumulates (a binary layer's XNOR-popcount), not float ones.</param>
public sealed record KernelCall(Kernel Kernel, IReadOnlyList<ProgramBuffer> Arguments, string Comment, long Macs = 0, Pass Pass = Pass.Other, bool BitMacs = false);

/// <summary>What a kernel call does in the training step (for profiles and diagnostics).</summary>
public enum Pass { Other, Forward, Loss, WeightGradient, InputGradient, Backward, Update }

/// <summary>
/// A function of the generated API: a sequence of kernel calls over arena, constant and external buffers,
/// optionally returning element 0 of a buffer (the loss).
/// </summary>
public sealed record EntryPoint(string Name, IReadOnlyList<ProgramBuffer> Externals, IReadOnlyList<KernelCall> Calls, ProgramBuffer? Result);

/// <summary>A parameter the API exposes for inspection (tinyodl_param).</summary>
public sealed record ParameterView(string Name, ProgramBuffer Buffer);

/// <summary>
/// The lowered model: everything the backends need and nothing else. C, LLVM IR and the C# evaluator
/// are three readings of this one object.
/// </summary>
public sealed class KernelProgram
{
    public KernelProgram(string modelName, int arenaBytes, IReadOnlyList<ProgramBuffer> buffers,
        EntryPoint init, EntryPoint trainStep, EntryPoint predict, IReadOnlyList<ParameterView> parameters,
        int inputSize, int targetSize, int outputSize)
    {
        ModelName = modelName;
        ArenaBytes = arenaBytes;
        Buffers = buffers;
        Init = init;
        TrainStep = trainStep;
        Predict = predict;
        Parameters = parameters;
        InputSize = inputSize;
        TargetSize = targetSize;
        OutputSize = outputSize;
    }

    public string ModelName { get; }
    public int ArenaBytes { get; }
    public IReadOnlyList<ProgramBuffer> Buffers { get; }
    public EntryPoint Init { get; }
    public EntryPoint TrainStep { get; }
    public EntryPoint Predict { get; }
    public IReadOnlyList<ParameterView> Parameters { get; }
    public int InputSize { get; }
    public int TargetSize { get; }
    public int OutputSize { get; }

    public IEnumerable<EntryPoint> EntryPoints => [Init, TrainStep, Predict];

    /// <summary>Whether any buffer is binary16 (the program then needs Zfh and a compiler with _Float16).</summary>
    public bool UsesHalf => Buffers.Any(b => b.Element == ScalarType.F16);

    /// <summary>Whether any kernel has a lanes loop (vector code: RVV intrinsics in C).</summary>
    public bool UsesLanes => Kernels.Any(k => IrWalker.Statements(k.Body).Any(s => s is For { Lanes: true }));

    /// <summary>Distinct kernels in first-use order (identical layers share one kernel).</summary>
    public IReadOnlyList<Kernel> Kernels =>
        EntryPoints.SelectMany(e => e.Calls).Select(c => c.Kernel).Distinct().ToArray();

    /// <summary>Scalar functions used by any kernel, callees first.</summary>
    public IReadOnlyList<ScalarFunction> Functions =>
        Kernels.SelectMany(k => k.Callees()).Distinct().ToArray();
}
