namespace MlRounding.Trainers;

/// <summary>Training rows in memory: row-major features and one label per row (the class index for classification).</summary>
/// <param name="Features">n × d values, row-major.</param>
/// <param name="Labels">n labels: the target (regression), 0/1 (binary) or the class index (multiclass).</param>
/// <param name="FeatureCount">d.</param>
internal sealed record QatData(float[] Features, float[] Labels, int FeatureCount)
{
    /// <summary>Gets the number of rows.</summary>
    public int Count => Labels.Length;

    /// <summary>The rows at <paramref name="indices"/>.</summary>
    /// <param name="indices">Row indices.</param>
    /// <returns>A new data set.</returns>
    public QatData Subset(IReadOnlyList<int> indices)
    {
        var features = new float[indices.Count * FeatureCount];
        var labels = new float[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(Features, indices[i] * FeatureCount, features, i * FeatureCount, FeatureCount);
            labels[i] = Labels[indices[i]];
        }

        return new QatData(features, labels, FeatureCount);
    }

    /// <summary>The inputs at <paramref name="columns"/> of every row.</summary>
    /// <param name="columns">Input indices.</param>
    /// <returns>A new data set with the same labels.</returns>
    public QatData Columns(IReadOnlyList<int> columns)
    {
        var features = new float[Count * columns.Count];
        for (int i = 0; i < Count; i++)
        {
            for (int k = 0; k < columns.Count; k++)
            {
                features[(i * columns.Count) + k] = Features[(i * FeatureCount) + columns[k]];
            }
        }

        return new QatData(features, Labels, columns.Count);
    }
}
