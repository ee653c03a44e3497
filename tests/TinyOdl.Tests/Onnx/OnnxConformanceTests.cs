using Xunit.Abstractions;

namespace TinyOdl.Tests.Onnx;

/// <summary>Every conformance case, imported and run through the C# evaluator once for all tests of this class.</summary>
public sealed class ConformanceRun
{
    private readonly Lazy<IReadOnlyList<ConformanceResult>> _results = new(() =>
    {
        var cases = ConformanceCase.All(ConformanceSettings.Folder);
        return cases.Select(c => Conformance.Run(c, new EvaluatorRunner())).ToList();
    });

    internal IReadOnlyList<ConformanceResult> Results => _results.Value;
}

/// <summary>
/// The ONNX project's backend test cases (shared/conformance/onnx; README there): every case either passes within
/// 1e-5 relative + 1e-6 absolute of the exporter's outputs, or is rejected with one line naming the node and op.
/// </summary>
public sealed class OnnxConformanceTests(ConformanceRun run, ITestOutputHelper output) : IClassFixture<ConformanceRun>
{
    /// <summary>Cases the importer supports today; each must pass when present (so a regression cannot hide as "unsupported").</summary>
    private static readonly string[] ExpectedToPass = ["test_Linear", "test_Linear_no_bias", "test_ReLU", "test_single_relu_model", "test_LeakyReLU", "test_LeakyReLU_with_negval"];

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
    public void Supported_cases_pass()
    {
        var byName = run.Results.ToDictionary(r => r.Case);
        foreach (var name in ExpectedToPass.Where(byName.ContainsKey))
            Assert.True(byName[name].Verdict == ConformanceVerdict.Passed, byName[name].ToString());
        Assert.Contains(run.Results, r => r.Verdict == ConformanceVerdict.Passed);
    }
}
