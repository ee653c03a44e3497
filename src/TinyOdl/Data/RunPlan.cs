namespace TinyOdl.Data;

/// <summary>
/// What the on-device harness does: the samples it trains and tests on (embedded in dataset.c) and whether
/// it runs whole epochs or traces single steps (verify mode, <see cref="TraceSteps"/> &gt; 0).
/// </summary>
public sealed record RunPlan(Dataset Train, Dataset Test, int Epochs, int TraceSteps)
{
    /// <summary>How many test predictions verify mode prints (harness.c VERIFY_PREDICTIONS).</summary>
    public const int VerifyPredictions = 4;

    public static RunPlan Training(Dataset train, Dataset test, int epochs) => new(train, test, epochs, 0);

    /// <summary>Trace <paramref name="steps"/> steps over the first training samples, then print state and a few predictions.</summary>
    public static RunPlan Verify(Dataset train, Dataset test, int steps) =>
        new(train.Take(steps), test.Take(VerifyPredictions), 0, steps);

    public bool IsVerify => TraceSteps > 0;
}
