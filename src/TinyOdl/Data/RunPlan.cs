namespace TinyOdl.Data;

/// <summary>
/// What the on-device harness does: the samples it trains and tests on (embedded in dataset.c), whether it runs
/// whole epochs or traces single steps (verify mode, <see cref="TraceSteps"/> &gt; 0), and how many test
/// predictions it prints at the end (<see cref="PredictCount"/>, dataset.c's tinyodl_predict_count).
/// </summary>
public sealed record RunPlan(Dataset Train, Dataset Test, int Epochs, int TraceSteps, int PredictCount)
{
    /// <summary>How many test predictions verify mode prints by default.</summary>
    public const int VerifyPredictions = 4;

    /// <summary>Whole epochs; no predictions printed (the epoch lines count correct test predictions instead).</summary>
    public static RunPlan Training(Dataset train, Dataset test, int epochs) => new(train, test, epochs, 0, 0);

    /// <summary>Trace <paramref name="steps"/> steps over the first training samples, then print state and a few predictions.</summary>
    public static RunPlan Verify(Dataset train, Dataset test, int steps) =>
        new(train.Take(steps), test.Take(VerifyPredictions), 0, steps, VerifyPredictions);

    /// <summary>
    /// Predict given inputs: no training samples, no epochs, no traced steps; the initial parameters and the outputs
    /// of every input are printed. The inputs' labels are 0 and unused (no epoch counts accuracy).
    /// </summary>
    public static RunPlan Predict(IReadOnlyList<float[]> inputs) =>
        new(new Dataset([], [], 0), new Dataset(inputs, new int[inputs.Count], 1), 0, 0, inputs.Count);

    public bool IsVerify => TraceSteps > 0;

    /// <summary>The number of predict lines the harness prints: the first this many test samples.</summary>
    public int Predictions => Math.Clamp(PredictCount, 0, Test.Count);

    /// <summary>The manifest's mode: verify, predict (nothing to train, only predictions) or train.</summary>
    public string Mode => IsVerify ? "verify" : Epochs == 0 && Train.Count == 0 && PredictCount > 0 ? "predict" : "train";
}
