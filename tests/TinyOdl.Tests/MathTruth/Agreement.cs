using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace TinyOdl.Tests.MathTruth;

/// <summary>
/// Collects comparisons of a float32 result against a float64 truth and fails once, at the end, listing the
/// worst offenders. An element passes when |actual - expected| &lt;= rtol * max(|expected|, scale) + atol,
/// where scale is the magnitude the rounding error is naturally proportional to (sum |w x| for a dot product,
/// the largest element for a gradient tensor); the reported relative error is |actual - expected| / max(|expected|, scale).
/// A check may pass its own rtol (a bound derived for that value, such as gamma_n for an n-term sum).
/// </summary>
internal sealed class Agreement(string what, double rtol, double atol)
{
    private readonly List<(double Excess, string Message)> _failures = [];

    public string What { get; } = what;
    public int Count { get; private set; }
    public double MaxAbsError { get; private set; }
    public double MaxRelError { get; private set; }
    public string WorstAt { get; private set; } = "-";
    public bool Passed => _failures.Count == 0;

    public void Check(double actual, double expected, string where, double scale = 0, double? relTol = null)
    {
        Count++;
        double err = Math.Abs(actual - expected);
        double denom = Math.Max(Math.Abs(expected), scale);
        double rel = denom > 0 ? err / denom : (err == 0 ? 0 : double.PositiveInfinity);
        if (double.IsNaN(actual) || double.IsNaN(expected)) { err = double.PositiveInfinity; rel = double.PositiveInfinity; }
        MaxAbsError = Math.Max(MaxAbsError, err);
        if (Count == 1 || rel > MaxRelError)
        {
            MaxRelError = rel;
            WorstAt = where;
        }
        double bound = (relTol ?? rtol) * denom + atol;
        if (!(err <= bound))
            _failures.Add((err / bound, string.Create(CultureInfo.InvariantCulture,
                $"{where}: actual {actual:R}, expected {expected:R}, |err| {err:E3} > bound {bound:E3} (rel {rel:E3})")));
    }

    public void CheckAll(IReadOnlyList<float> actual, IReadOnlyList<double> expected, string where, double scale = 0)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < actual.Count; i++) Check(actual[i], expected[i], $"{where}[{i}]", scale);
    }

    /// <summary>Normwise: every element is measured against the largest |expected| of the tensor.</summary>
    public void CheckTensor(IReadOnlyList<float> actual, IReadOnlyList<double> expected, string where) =>
        CheckAll(actual, expected, where, expected.Count == 0 ? 0 : expected.Max(Math.Abs));

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{What}: {Count} values, max rel err {MaxRelError:E3} (at {WorstAt}), max abs err {MaxAbsError:E3}; tolerance rtol {rtol:E1} atol {atol:E1}");

    /// <summary>Prints the summary (when given an output) and fails if any element was outside tolerance.</summary>
    public void Verify(ITestOutputHelper? output)
    {
        output?.WriteLine(Summary());
        MathTruthLog.Record(Summary());
        Assert.True(Count > 0, $"{What}: nothing was compared");
        if (_failures.Count == 0) return;
        var sb = new StringBuilder($"{What}: {_failures.Count} of {Count} values outside tolerance (rtol {rtol:E1}, atol {atol:E1}); worst:\n");
        foreach (var f in _failures.OrderByDescending(f => f.Excess).Take(12)) sb.AppendLine("  " + f.Message);
        Assert.Fail(sb.ToString());
    }
}

/// <summary>
/// Optional aggregate log of every check's measured error, written when TINYODL_MATHTRUTH_LOG names a file
/// (for docs/NUMERICS.md); tests never depend on it.
/// </summary>
internal static class MathTruthLog
{
    private static readonly object Gate = new();

    public static void Record(string line)
    {
        var path = Environment.GetEnvironmentVariable("TINYODL_MATHTRUTH_LOG");
        if (string.IsNullOrEmpty(path)) return;
        lock (Gate) File.AppendAllText(path, line + Environment.NewLine);
    }
}
