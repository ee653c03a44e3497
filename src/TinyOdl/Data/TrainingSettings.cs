namespace TinyOdl.Data;

/// <summary>Where a model's training data comes from and how the on-device run uses it.</summary>
public sealed record DatasetSpec(string CsvPath, int Classes, float Scale);

/// <summary>The "training" section of a model file.</summary>
public sealed record TrainingSettings(DatasetSpec? Dataset, int Epochs = 3, double TestFraction = 0.2, ulong ShuffleSeed = 1)
{
    /// <summary>Loads and splits the data set; without one, a small synthetic set with the model's sizes.</summary>
    public (Dataset Train, Dataset Test) Load(int features, int classes)
    {
        if (Dataset is null)
            return Data.Dataset.Synthetic(64, features, classes, ShuffleSeed).Split(TestFraction, ShuffleSeed);
        var data = Data.Dataset.LoadCsv(Dataset.CsvPath, Dataset.Classes, Dataset.Scale);
        if (data.Features != features)
            throw TinyOdlException.At(Dataset.CsvPath, $"rows have {data.Features} features, the model's input has {features}");
        if (data.Classes != classes)
            throw TinyOdlException.At(Dataset.CsvPath, $"{data.Classes} classes, the model predicts {classes} values");
        return data.Split(TestFraction, ShuffleSeed);
    }
}
