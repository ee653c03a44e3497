using System.Text.RegularExpressions;
using TinyOdl.Evaluation;
using TinyOdl.Frontends.Onnx;
using TinyOdl.Targets;
using TinyOdl.Tests.Support;

namespace TinyOdl.Tests.Onnx;

/// <summary>Where the ONNX conformance cases are: $TINYODL_CONFORMANCE_DIR, else ../shared/conformance/onnx beside the checkout.</summary>
internal static class ConformanceSettings
{
    public const string Variable = "TINYODL_CONFORMANCE_DIR";

    public static string Folder =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } d
            ? Path.GetFullPath(d, Repo.Root)
            : Path.GetFullPath(Path.Combine(Repo.Root, "..", "shared", "conformance", "onnx"));

    public static bool IsCi => Environment.GetEnvironmentVariable("CI") == "true";

    public static bool Available => Directory.Exists(Folder) && ConformanceCase.All(Folder).Count > 0;
}

/// <summary>
/// A test that needs the conformance cases: skipped with a message when they are absent on a developer machine,
/// run (and so failing) under CI=true, where their absence is an error.
/// </summary>
public sealed class ConformanceFactAttribute : FactAttribute
{
    public ConformanceFactAttribute()
    {
        if (!ConformanceSettings.IsCi && !ConformanceSettings.Available)
            Skip = $"no ONNX conformance cases in {ConformanceSettings.Folder} (set {ConformanceSettings.Variable}; under CI=true this is a failure)";
    }
}

/// <summary>One test_data_set_N folder: input_K.pb and output_K.pb in order of K.</summary>
internal sealed record ConformanceDataSet(string Name, IReadOnlyList<OnnxTensor> Inputs, IReadOnlyList<OnnxTensor> Outputs);

/// <summary>One case folder: model.onnx and its data sets (read lazily).</summary>
internal sealed class ConformanceCase(string folder)
{
    public string Folder { get; } = folder;
    public string Name => Path.GetFileName(Folder);
    public string ModelPath => Path.Combine(Folder, "model.onnx");

    public static IReadOnlyList<ConformanceCase> All(string root) =>
        Directory.Exists(root)
            ? Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "model.onnx")))
                .Order(StringComparer.Ordinal).Select(d => new ConformanceCase(d)).ToList()
            : [];

    public IReadOnlyList<ConformanceDataSet> DataSets() =>
        Directory.GetDirectories(Folder, "test_data_set_*").Order(StringComparer.Ordinal)
            .Select(d => new ConformanceDataSet(Path.GetFileName(d), Read(d, "input_"), Read(d, "output_"))).ToList();

    private static IReadOnlyList<OnnxTensor> Read(string dir, string prefix) =>
        Directory.GetFiles(dir, prefix + "*.pb")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[prefix.Length..]))
            .Select(OnnxTensors.ReadFile).ToList();
}

/// <summary>
/// Runs an imported, compiled model on samples (one input vector each) and returns one output vector per sample:
/// the C# evaluator (<see cref="EvaluatorRunner"/>) or the device under QEMU (<see cref="QemuConformanceRunner"/>).
/// </summary>
internal interface IConformanceRunner
{
    string Name { get; }
    IReadOnlyList<float[]> Predict(CompiledModel compiled, IReadOnlyList<float[]> samples);
}

/// <summary>The C# evaluator: init(), then predict() per sample, exactly as the device would.</summary>
internal sealed class EvaluatorRunner : IConformanceRunner
{
    public string Name => "evaluator";

    public IReadOnlyList<float[]> Predict(CompiledModel compiled, IReadOnlyList<float[]> samples)
    {
        var e = new Evaluator(compiled.Program);
        e.Init();
        return samples.Select(x =>
        {
            var y = new float[compiled.Program.OutputSize];
            e.Predict(x, y);
            return y;
        }).ToList();
    }
}

internal enum ConformanceVerdict { Passed, Unsupported, Failed }

/// <param name="BlockingOp">For unsupported cases: the op type the error names.</param>
/// <param name="Predictions">For passed cases: the runner's raw outputs, every data set's samples in order.</param>
internal sealed record ConformanceResult(string Case, ConformanceVerdict Verdict, string Detail, string? BlockingOp = null,
    IReadOnlyList<float[]>? Predictions = null)
{
    public override string ToString() => $"{Case}: {Verdict.ToString().ToLowerInvariant()}: {Detail}";
}

/// <summary>
/// Imports a case, compiles it for <see cref="Board"/>, runs the samples of all its data sets through a runner in
/// one batch and compares with output_K.pb (1e-5 relative + 1e-6 absolute).
/// </summary>
internal static class Conformance
{
    public const double Relative = 1e-5, Absolute = 1e-6;

    /// <summary>The board every case is compiled for: the one <see cref="QemuConformanceRunner"/> runs it on.</summary>
    public static Board Board { get; } = Board.Load("qemu-virt-rv32");

    private static readonly Regex NodeAndOp = new(@"node '(?<name>[^']*)' \((?<op>[^,()]+), opset (?<opset>[^)]+)\)", RegexOptions.CultureInvariant);

    public static ConformanceResult Run(ConformanceCase c, IConformanceRunner runner)
    {
        OnnxImport import;
        try { import = OnnxModelReader.Import(c.ModelPath); }
        catch (TinyOdlException e)
        {
            var m = NodeAndOp.Match(e.Message);
            if (!e.Message.StartsWith(c.ModelPath + ": ", StringComparison.Ordinal) || !m.Success || e.Message.Contains('\n'))
                return new(c.Name, ConformanceVerdict.Failed, $"the error does not name the file, a node and its op on one line: {e.Message}");
            return new(c.Name, ConformanceVerdict.Unsupported, e.Message[(c.ModelPath.Length + 2)..], m.Groups["op"].Value);
        }
        catch (Exception e) { return new(c.Name, ConformanceVerdict.Failed, $"import crashed: {e.GetType().Name}: {e.Message}"); }

        try
        {
            var compiled = Pipeline.Compile(import.Model, Board, c.ModelPath);
            // Every data set's samples, named for messages, so the runner sees them all at once (one QEMU run).
            var samples = new List<(string Name, float[] Input, float[] Expected)>();
            foreach (var set in c.DataSets())
            {
                if (set.Inputs.Count != 1 || set.Outputs.Count != 1)
                    return new(c.Name, ConformanceVerdict.Failed, $"{set.Name}: {set.Inputs.Count} inputs and {set.Outputs.Count} outputs, but the import has one of each");
                var x = Split(set.Inputs[0], import.Input, $"{set.Name} input");
                var expected = Split(set.Outputs[0], import.Output, $"{set.Name} output");
                if (x.Count != expected.Count)
                    return new(c.Name, ConformanceVerdict.Failed, $"{set.Name}: {x.Count} input samples but {expected.Count} output samples");
                samples.AddRange(x.Select((xs, s) => ($"{set.Name} sample {s}", xs, expected[s])));
            }
            var y = runner.Predict(compiled, samples.Select(s => s.Input).ToList());
            if (y.Count != samples.Count)
                return new(c.Name, ConformanceVerdict.Failed, $"{runner.Name} returned {y.Count} predictions for {samples.Count} samples");
            double worst = 0;
            for (int s = 0; s < samples.Count; s++)
            {
                var got = Apply(import.FoldedOutput, y[s]);
                for (int i = 0; i < got.Length; i++)
                {
                    double e = samples[s].Expected[i], err = Math.Abs(got[i] - e);
                    worst = Math.Max(worst, err / (Relative * Math.Abs(e) + Absolute));
                    if (!(err <= Relative * Math.Abs(e) + Absolute))
                        return new(c.Name, ConformanceVerdict.Failed, $"{samples[s].Name} element {i}: {runner.Name} gives {got[i]:R}, expected {e:R} (error {err:E2})");
                }
            }
            return new(c.Name, ConformanceVerdict.Passed, $"{samples.Count} samples within tolerance (worst error {worst:P1} of the allowed)", Predictions: y);
        }
        catch (TinyOdlException e) { return new(c.Name, ConformanceVerdict.Failed, $"imported but did not compile or run: {e.Message}"); }
        catch (Exception e) { return new(c.Name, ConformanceVerdict.Failed, $"crashed after import: {e.GetType().Name}: {e.Message}"); }
    }

    /// <summary>Where two runs' predictions first differ in their bits (or in count or size), or null when they are identical.</summary>
    public static string? FirstBitDifference(IReadOnlyList<float[]> expected, IReadOnlyList<float[]> actual)
    {
        if (expected.Count != actual.Count) return $"{actual.Count} predictions instead of {expected.Count}";
        for (int s = 0; s < expected.Count; s++)
        {
            if (expected[s].Length != actual[s].Length) return $"sample {s}: {actual[s].Length} values instead of {expected[s].Length}";
            for (int i = 0; i < expected[s].Length; i++)
                if (BitConverter.SingleToUInt32Bits(expected[s][i]) != BitConverter.SingleToUInt32Bits(actual[s][i]))
                    return $"sample {s} element {i}: expected 0x{Protocol.Hex(expected[s][i])}, got 0x{Protocol.Hex(actual[s][i])}";
        }
        return null;
    }

    /// <summary>A batched tensor as one vector per sample (the batch dimension first); an unbatched one as one sample.</summary>
    public static IReadOnlyList<float[]> Split(OnnxTensor t, OnnxBinding binding, string what)
    {
        var sample = binding.SampleShape.Dims.Select(d => (long)d).ToArray();
        var dims = t.Dims.ToArray();
        var perSample = binding.Batched ? dims.Skip(1).ToArray() : dims;
        if (!perSample.SequenceEqual(sample) || (binding.Batched && dims.Length == 0))
            throw new InvalidDataException($"{what} {OnnxTensors.FormatDims(dims)} does not match the model's {binding}");
        int n = binding.Batched ? (int)dims[0] : 1, size = binding.SampleShape.Elements;
        return Enumerable.Range(0, n).Select(i => t.Values.AsSpan(i * size, size).ToArray()).ToList();
    }

    /// <summary>The values the ONNX graph outputs: the prediction, with the final op that went into the loss applied in float64.</summary>
    public static double[] Apply(OnnxFoldedOutput folded, float[] prediction)
    {
        var v = prediction.Select(p => (double)p).ToArray();
        return folded switch
        {
            OnnxFoldedOutput.Softmax => OnnxReference.SoftmaxOf(v, log: false),
            OnnxFoldedOutput.LogSoftmax => OnnxReference.SoftmaxOf(v, log: true),
            _ => v,
        };
    }
}
