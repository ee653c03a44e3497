using System.Diagnostics;
using TinyOdl.Tests.Support;
using Xunit.Abstractions;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// Every conformance case, imported and run through the C# evaluator once for all tests of this class; the cases
/// that pass there also on QEMU (on first use: one build and one run per case, cases in parallel).
/// </summary>
public sealed class ConformanceRun : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly Lazy<IReadOnlyList<ConformanceResult>> _results;
    private readonly Lazy<IReadOnlyList<(ConformanceResult Evaluator, ConformanceResult Device, TimeSpan Elapsed)>> _device;

    public ConformanceRun()
    {
        var cases = ConformanceCase.All(ConformanceSettings.Folder);
        _results = new(() => cases.Select(c => Conformance.Run(c, new EvaluatorRunner())).ToList());
        _device = new(() =>
        {
            var passed = Results.Where(r => r.Verdict == ConformanceVerdict.Passed).ToList();
            var device = new (ConformanceResult Evaluator, ConformanceResult Device, TimeSpan Elapsed)[passed.Count];
            Parallel.For(0, passed.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
            {
                var c = cases.Single(c => c.Name == passed[i].Case);
                var sw = Stopwatch.StartNew();
                var result = Conformance.Run(c, new QemuConformanceRunner(_tmp.File(c.Name)));
                device[i] = (passed[i], result, sw.Elapsed);
            });
            return device;
        });
    }

    internal IReadOnlyList<ConformanceResult> Results => _results.Value;

    /// <summary>Each case that passes on the evaluator, with its result on QEMU.</summary>
    internal IReadOnlyList<(ConformanceResult Evaluator, ConformanceResult Device, TimeSpan Elapsed)> DeviceResults => _device.Value;

    public void Dispose() => _tmp.Dispose();
}

/// <summary>
/// The ONNX project's backend test cases (shared/conformance/onnx; README there): every case either passes within
/// 1e-5 relative + 1e-6 absolute of the exporter's outputs, or is rejected with one line naming the node and op.
/// </summary>
public sealed class OnnxConformanceTests(ConformanceRun run, ITestOutputHelper output) : IClassFixture<ConformanceRun>
{
    /// <summary>Cases the importer supports today; each must pass when present (so a regression cannot hide as "unsupported").</summary>
    private static readonly string[] ExpectedToPass = ["test_Linear", "test_Linear_no_bias", "test_ReLU", "test_single_relu_model", "test_LeakyReLU", "test_LeakyReLU_with_negval",
        "test_Conv2d", "test_Conv2d_no_bias", "test_Conv2d_padding", "test_Conv2d_strided", "test_Conv2d_depthwise", "test_Conv2d_depthwise_padded",
        "test_Conv2d_depthwise_strided", "test_AvgPool2d", "test_MaxPool2d", "test_BatchNorm2d_eval", "test_operator_flatten"];

    [ConformanceFact]
    public void The_conformance_folder_has_cases()
    {
        Assert.True(Directory.Exists(ConformanceSettings.Folder),
            $"no ONNX conformance folder at {ConformanceSettings.Folder} (set {ConformanceSettings.Variable})");
        Assert.NotEmpty(ConformanceCase.All(ConformanceSettings.Folder));
    }

    [ConformanceFact]
    public void Every_case_passes_or_names_the_unsupported_node_and_op()
    {
        var results = run.Results;
        Assert.NotEmpty(results);
        var passed = results.Where(r => r.Verdict == ConformanceVerdict.Passed).ToList();
        var unsupported = results.Where(r => r.Verdict == ConformanceVerdict.Unsupported).ToList();
        var failed = results.Where(r => r.Verdict == ConformanceVerdict.Failed).ToList();
        output.WriteLine($"ONNX conformance ({ConformanceSettings.Folder}), C# evaluator: {passed.Count} passed, {unsupported.Count} unsupported, {failed.Count} failed of {results.Count}");
        foreach (var r in results) output.WriteLine("  " + r);
        output.WriteLine("Blocking ops: " + string.Join(", ", unsupported.GroupBy(r => r.BlockingOp).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} ({string.Join(" ", g.Select(r => r.Case))})")));
        Assert.True(failed.Count == 0, "conformance failures:\n" + string.Join("\n", failed));
    }

    [ConformanceFact]
    public void Cases_that_pass_on_the_evaluator_pass_on_QEMU_with_the_evaluators_bits()
    {
        var results = run.DeviceResults;
        Assert.NotEmpty(results);
        var lines = new List<string>();
        var problems = new List<string>();
        int passed = 0, bitExact = 0, samples = 0;
        foreach (var (evaluator, device, elapsed) in results)
        {
            if (device.Verdict != ConformanceVerdict.Passed)
            {
                problems.Add(device.ToString());
                lines.Add($"  {device} ({elapsed.TotalSeconds:F1} s)");
                continue;
            }
            passed++;
            samples += device.Predictions!.Count;
            // Within tolerance is not enough: the device must compute exactly what the evaluator computes.
            var difference = Conformance.FirstBitDifference(evaluator.Predictions!, device.Predictions!);
            if (difference is null) bitExact++;
            else problems.Add($"{device.Case}: QEMU differs from the C# evaluator: {difference}");
            lines.Add($"  {device}; {(difference is null ? "bit-exact against the evaluator" : "NOT bit-exact against the evaluator: " + difference)} ({elapsed.TotalSeconds:F1} s)");
        }
        output.WriteLine($"ONNX conformance on QEMU ({Conformance.Board.Name}, {QemuConformanceRunner.Combo.Name}): {passed} passed, " +
            $"{results.Count - passed} failed of the {results.Count} cases that pass on the C# evaluator; {bitExact} bit-exact against the evaluator ({samples} samples)");
        foreach (var l in lines) output.WriteLine(l);
        Assert.True(problems.Count == 0, "QEMU conformance failures:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void Bit_comparison_tells_negative_from_positive_zero_and_checks_counts()
    {
        float[][] a = [[0f, float.NaN], [1f]];
        Assert.Null(Conformance.FirstBitDifference(a, [[0f, float.NaN], [1f]]));
        Assert.Equal("sample 0 element 0: expected 0x00000000, got 0x80000000", Conformance.FirstBitDifference(a, [[-0f, float.NaN], [1f]]));
        Assert.Equal("1 predictions instead of 2", Conformance.FirstBitDifference(a, [[0f, float.NaN]]));
        Assert.Equal("sample 1: 2 values instead of 1", Conformance.FirstBitDifference(a, [[0f, float.NaN], [1f, 1f]]));
    }

    [ConformanceFact]
    public void Supported_cases_pass()
    {
        var byName = run.Results.ToDictionary(r => r.Case);
        foreach (var name in ExpectedToPass.Where(byName.ContainsKey))
            Assert.True(byName[name].Verdict == ConformanceVerdict.Passed, byName[name].ToString());
        Assert.Contains(run.Results, r => r.Verdict == ConformanceVerdict.Passed);
    }
}
