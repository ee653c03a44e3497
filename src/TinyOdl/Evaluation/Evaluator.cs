using System.Runtime.InteropServices;
using TinyOdl.Kernels;

namespace TinyOdl.Evaluation;

/// <summary>
/// The C# backend: runs a <see cref="KernelProgram"/> on the host with the same arena layout and the same
/// operation sequence as the generated C and LLVM IR, so its results are the bits the device must produce.
/// </summary>
public sealed class Evaluator
{
    private readonly KernelProgram _program;
    private readonly Dictionary<Kernel, CompiledKernel> _kernels;
    private readonly Dictionary<ProgramBuffer, byte[]> _ownStorage = new();
    private readonly byte[] _input;
    private readonly byte[] _target;
    private readonly byte[] _output;

    public Evaluator(KernelProgram program)
    {
        _program = program;
        _kernels = program.Kernels.ToDictionary(k => k, KernelCompiler.Compile);
        Arena = new byte[program.ArenaBytes];
        foreach (var b in program.Buffers.Where(b => b.Storage == BufferStorage.Constant))
            _ownStorage[b] = b.Element == ScalarType.F16
                ? MemoryMarshal.AsBytes(b.Data!.Select(v => Numerics.Binary16.FromSingle(BitConverter.SingleToUInt32Bits(v))).ToArray().AsSpan()).ToArray()
                : MemoryMarshal.AsBytes(b.Data!.ToArray().AsSpan()).ToArray();
        _input = new byte[program.InputSize * 4];
        _target = new byte[program.TargetSize * 4];
        _output = new byte[program.OutputSize * 4];
        // The entry points' external parameters, by position: train_step(input, target), predict(input, output).
        _ownStorage[program.TrainStep.Externals[0]] = _input;
        _ownStorage[program.TrainStep.Externals[1]] = _target;
        _ownStorage[program.Predict.Externals[0]] = _input;
        _ownStorage[program.Predict.Externals[1]] = _output;
    }

    /// <summary>The arena exactly as the device holds it.</summary>
    public byte[] Arena { get; }

    public void Init() => Run(_program.Init);

    public float TrainStep(ReadOnlySpan<float> input, ReadOnlySpan<float> target)
    {
        CopyIn(input, _input, _program.InputSize, "input");
        CopyIn(target, _target, _program.TargetSize, "target");
        Run(_program.TrainStep);
        return Read(_program.TrainStep.Result!)[0];
    }

    public void Predict(ReadOnlySpan<float> input, Span<float> output)
    {
        CopyIn(input, _input, _program.InputSize, "input");
        Run(_program.Predict);
        MemoryMarshal.Cast<byte, float>(_output).CopyTo(output);
    }

    /// <summary>Current contents of an arena or constant buffer, as float values (f16 elements widened exactly).</summary>
    public float[] Read(ProgramBuffer buffer) =>
        buffer.Element == ScalarType.F16
            ? ReadBits(buffer).Select(b => BitConverter.UInt32BitsToSingle(Numerics.Binary16.ToSingle((ushort)b))).ToArray()
            : ReadBits(buffer).Select(BitConverter.UInt32BitsToSingle).ToArray();

    /// <summary>Current contents as raw bit patterns, one per element (16 significant bits for f16).</summary>
    public uint[] ReadBits(ProgramBuffer buffer)
    {
        var (storage, offset) = Bind(buffer);
        var bytes = storage.AsSpan(offset, buffer.Bytes);
        return buffer.Element.SizeInBytes() == 2
            ? MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(h => (uint)h).ToArray()
            : MemoryMarshal.Cast<byte, uint>(bytes).ToArray();
    }

    private void Run(EntryPoint entry)
    {
        Span<(byte[], int)> bindings = new (byte[], int)[8];
        foreach (var call in entry.Calls)
        {
            var args = call.Arguments.Count <= bindings.Length ? bindings[..call.Arguments.Count] : new (byte[], int)[call.Arguments.Count];
            for (int i = 0; i < call.Arguments.Count; i++) args[i] = Bind(call.Arguments[i]);
            _kernels[call.Kernel].Run(args);
        }
    }

    private (byte[] Storage, int Offset) Bind(ProgramBuffer b) =>
        b.Storage == BufferStorage.Arena ? (Arena, b.Offset) : (_ownStorage[b], 0);

    private static void CopyIn(ReadOnlySpan<float> values, byte[] dst, int expected, string what)
    {
        if (values.Length != expected) throw new ArgumentException($"{what} has {values.Length} elements, the model expects {expected}");
        MemoryMarshal.AsBytes(values).CopyTo(dst);
    }
}
