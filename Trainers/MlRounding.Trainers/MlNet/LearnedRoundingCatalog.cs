using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MlRounding.Bridge;

namespace MlRounding.Trainers;

/// <summary>
/// <c>QuantizeNetwork</c> on ML.NET's model operations catalog (<c>mlContext.Model</c>): a trained float network of
/// MlRounding (trained with <see cref="QatMode.Float"/>, or read from ONNX) becomes an integer one, from unlabeled
/// calibration rows, by learned rounding (AdaRound) or nearest rounding. See README, "Learned rounding".
/// </summary>
public static class LearnedRoundingCatalog
{
    /// <summary>Quantizes the float network of <paramref name="model"/> with learned rounding.</summary>
    /// <typeparam name="TTransformer">The model's type; the result has the same type.</typeparam>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="model">A prediction transformer of one of MlRounding's float networks, or a fitted pipeline that ends with one.</param>
    /// <param name="calibrationRows">Rows as the model reads them (the pipeline's input); no label needed (a step that reads only absent columns, such as a label mapping, is passed over).</param>
    /// <param name="weightBits">Bits of every weight matrix: 1 (codes ±1) or 2..8.</param>
    /// <param name="activationBits">Bits of the hidden activations: 2..16, or 32 (float).</param>
    /// <returns>The same pipeline with the integer network in place of the float one.</returns>
    /// <exception cref="ArgumentException">The model does not end with one of MlRounding's float networks.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or the features column is missing or of the wrong width.</exception>
    /// <exception cref="InvalidOperationException">No calibration row has finite features.</exception>
    public static TTransformer QuantizeNetwork<TTransformer>(this ModelOperationsCatalog catalog, TTransformer model, IDataView calibrationRows, int weightBits = 4, int activationBits = 8)
        where TTransformer : class, ITransformer =>
        catalog.QuantizeNetwork(model, calibrationRows, new LearnedRoundingOptions { WeightBits = weightBits, ActivationBits = activationBits });

    /// <summary>Quantizes the float network of <paramref name="model"/>, with options.</summary>
    /// <typeparam name="TTransformer">The model's type; the result has the same type.</typeparam>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="model">A prediction transformer of one of MlRounding's float networks, or a fitted pipeline that ends with one.</param>
    /// <param name="calibrationRows">Rows as the model reads them (the pipeline's input); no label needed (a step that reads only absent columns, such as a label mapping, is passed over).</param>
    /// <param name="options">The options.</param>
    /// <returns>The same pipeline with the integer network in place of the float one.</returns>
    /// <exception cref="ArgumentException">The model does not end with one of MlRounding's float networks.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or the features column is missing or of the wrong width.</exception>
    /// <exception cref="InvalidOperationException">No calibration row has finite features.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token was cancelled.</exception>
    public static TTransformer QuantizeNetwork<TTransformer>(this ModelOperationsCatalog catalog, TTransformer model, IDataView calibrationRows, LearnedRoundingOptions options)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibrationRows);
        ArgumentNullException.ThrowIfNull(options);
        var env = TrainerBridge.EnvironmentOf(catalog);
        return (TTransformer)Replace(env, model, calibrationRows, options);
    }

    /// <summary>Reports each weight matrix to ML.NET's log (MLContext.Log) and to the user's callback, as training reports its epochs.</summary>
    private sealed class Logged(Microsoft.ML.Runtime.IChannel channel, IProgress<LearnedRoundingProgress>? user) : IProgress<LearnedRoundingProgress>
    {
        public void Report(LearnedRoundingProgress value)
        {
            TrainerBridge.Log(channel, ChannelMessageKind.Info, "Learned rounding, " + value);
            user?.Report(value);
        }
    }

    /// <summary>
    /// Whether a pipeline step can read the calibration rows: a step whose input columns they lack (a label mapping,
    /// when the rows have no label) is passed over; were its output needed, the next step that reads it fails naming it.
    /// </summary>
    private static bool Reads(ITransformer step, DataViewSchema schema)
    {
        try
        {
            step.GetOutputSchema(schema);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>The model with its last step's network quantized; a pipeline's rows go through the steps before it first.</summary>
    private static ITransformer Replace(Microsoft.ML.Runtime.IHostEnvironment env, ITransformer model, IDataView rows, LearnedRoundingOptions options)
    {
        if (model is IEnumerable<ITransformer> chain)
        {
            var steps = chain.ToList();
            if (steps.Count == 0)
            {
                throw new ArgumentException("The model is an empty pipeline; it must end with an MlRounding float network.", nameof(model));
            }

            IDataView before = rows;
            foreach (ITransformer step in steps.Take(steps.Count - 1))
            {
                if (Reads(step, before.Schema))
                {
                    before = step.Transform(before);
                }
            }

            steps[^1] = Replace(env, steps[^1], before, options);
            return (ITransformer)Activator.CreateInstance(model.GetType(), new object[] { steps.ToArray() })!;
        }

        var (network, column) = TrainerBridge.NetworkOf(model)
            ?? throw new ArgumentException($"The model ends with {model.GetType().Name}; learned rounding needs one of MlRounding's networks trained in float (QatMode.Float) or read from ONNX.", nameof(model));
        var (features, count) = CalibrationRows.Read(rows, column, network.FeatureCount, options.CalibrationRows, options.Seed);
        if (count == 0)
        {
            throw new InvalidOperationException($"No calibration row has finite values in '{column}'.");
        }

        using var channel = env.Start("LearnedRounding");
        TrainerBridge.Log(channel, ChannelMessageKind.Info, $"Learned rounding: {count} calibration rows of '{column}', {options.Rounding}, W{options.WeightBits}A{options.ActivationBits}.");
        QuantizedMlp quantized = LearnedRounding.Quantize(network, features, count, options, new Logged(channel, options.Progress));
        return TrainerBridge.WithNetwork(env, model, quantized)!;
    }
}
