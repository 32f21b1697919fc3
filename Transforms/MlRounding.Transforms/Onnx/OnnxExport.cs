using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Onnx;
using static MlRounding.Onnx.OnnxGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace MlRounding.Onnx;

/// <summary>
/// Exports fitted ML.NET pipelines with MlRounding components to ONNX (OnnxSharp's protobuf types; opset 13, 21 when
/// weights are stored as INT4 or a grid needs 16-bit codes, 25 when weights are stored as INT2; see
/// <see cref="OnnxWeightStorage"/>). A quantization-aware network becomes a QDQ graph: per-channel weight codes (INT2, INT4 or INT8)
/// through <c>DequantizeLinear</c> (axis 0), <c>Gemm</c> with the float bias, <c>Relu</c>, and each activation grid as a
/// <c>QuantizeLinear</c>/<c>DequantizeLinear</c> pair. <c>Round</c>, <c>RoundToStep</c> and <c>Quantize</c> transforms
/// (and the network's extra rounding layers and input grid) become the same float operations as their C# rounding.
/// Supported steps besides ours: <c>NormalizeMinMax</c>/<c>NormalizeMeanVariance</c> and other affine normalizers,
/// <c>Concatenate</c>, and label key mappings (skipped: they are not on the scoring path).
/// </summary>
public static class OnnxExport
{
    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX model: one graph input per input column the model reads (float32,
    /// shape [N] + the column's vector size), and as outputs the predictor's columns (Score; Probability and
    /// PredictedLabel for binary; the class index PredictedLabel for multiclass) or, without a predictor, every column
    /// the pipeline produces.
    /// </summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="stream">Where the ONNX bytes go.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream) =>
        catalog.ExportToOnnx(model, inputSchema, stream, new OnnxExportOptions());

    /// <summary>Writes <paramref name="model"/> as an ONNX model, with options (e.g. the network layout).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="stream">Where the ONNX bytes go.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, Stream stream, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(stream);
        Google.Protobuf.MessageExtensions.WriteTo(Build(model, inputSchema, options), stream);
    }

    /// <summary>Writes the ONNX model to a file (a temporary name in the same folder, then moved into place).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath) =>
        catalog.ExportToOnnx(model, inputSchema, filePath, new OnnxExportOptions());

    /// <summary>Writes the ONNX model to a file, with options (a temporary name in the same folder, then moved into place).</summary>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">A fitted pipeline.</param>
    /// <param name="inputSchema">The schema of the data the pipeline was fitted on.</param>
    /// <param name="filePath">The .onnx file.</param>
    /// <param name="options">The options.</param>
    /// <exception cref="NotSupportedException">A step of the pipeline cannot be exported (its type is named).</exception>
    public static void ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ModelProto proto = Build(model, inputSchema, options); // fails before anything is written
        ModelFiles.WriteAtomically(filePath, (Stream stream) => Google.Protobuf.MessageExtensions.WriteTo(proto, stream));
    }

    internal static ModelProto Build(ITransformer model, DataViewSchema inputSchema, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(options);
        var g = new OnnxGraph();

        // Each column name is bound to how its tensor is made; a step's nodes are emitted only when a later step (or
        // the graph's outputs) asks for one of its columns, so label mappings and unused columns leave no trace and
        // add no graph input. A step binds its inputs when it is reached, so a later step that reuses a name does not
        // change what an earlier one reads.
        var bindings = new Dictionary<string, Lazy<OnnxColumn>>();
        var produced = new List<string>();
        DataViewSchema schema = inputSchema; // the schema in front of the current step

        Lazy<OnnxColumn> Bound(string name) =>
            bindings.TryGetValue(name, out var bound) ? bound : bindings[name] = new Lazy<OnnxColumn>(() => OnnxFeaturizers.GraphInput(g, inputSchema, name));

        void Produce(string name, Func<OnnxColumn> emit)
        {
            bindings[name] = new Lazy<OnnxColumn>(emit);
            produced.Remove(name);
            produced.Add(name);
        }

        // A one-to-one step: for each (output, input) pair in order, bind the input now and let make(index, output,
        // input, bound input) check the pair eagerly and return how the output is emitted.
        void ProducePairs(IReadOnlyList<(string Output, string Input)> pairs, Func<int, string, string, Lazy<OnnxColumn>, Func<OnnxColumn>> make)
        {
            for (int i = 0; i < pairs.Count; i++)
            {
                var (output, input) = pairs[i];
                Produce(output, make(i, output, input, Bound(input)));
            }
        }

        void Network(string featureColumn, QuantizedMlp network, DataViewSchema outputSchema)
        {
            OnnxColumn features = OnnxFeaturizers.Floats(Bound(featureColumn).Value, featureColumn);
            OnnxNetwork.Emit(g, features.Tensor, network, options);
            if (network.Task == QatTask.MulticlassClassification)
            {
                OnnxFeaturizers.LabelValues(g, outputSchema);
            }
        }

        foreach (ITransformer step in Flatten(model))
        {
            DataViewSchema after = step.GetOutputSchema(schema);
            switch (step)
            {
                case RoundingTransformer rounding:
                    foreach (RoundingColumn c in rounding.Columns)
                    {
                        var x = Bound(c.InputColumnName);
                        Produce(c.OutputColumnName, () =>
                        {
                            OnnxColumn input = OnnxFeaturizers.Floats(x.Value, c.InputColumnName);
                            return input with { Tensor = OnnxGrids.Round(g, input.Tensor, c.Grid, input.Width) };
                        });
                        if (c.CodesColumnName is { } codes && c.Grid is AffineGrid affine)
                        {
                            Produce(codes, () =>
                            {
                                OnnxColumn input = OnnxFeaturizers.Floats(x.Value, c.InputColumnName);
                                return input with { Tensor = OnnxGrids.Codes(g, input.Tensor, affine, input.Width) };
                            });
                        }
                    }

                    break;

                case NormalizingTransformer normalizer:
                    ProducePairs(MlRounding.Bridge.TransformerInternals.NormalizerColumns(normalizer), (i, output, input, x) =>
                    {
                        object parameters = normalizer.GetNormalizerModelParameters(i);
                        return () =>
                        {
                            OnnxColumn c = OnnxFeaturizers.Floats(x.Value, input);
                            return c with { Tensor = Normalize(g, c.Tensor, parameters, output, c.Width) };
                        };
                    });
                    break;

                case ColumnConcatenatingTransformer concat:
                    foreach (var (output, inputs) in MlRounding.Bridge.TransformerInternals.ConcatenatedColumns(concat))
                    {
                        var parts = inputs.Select(Bound).ToArray();
                        Produce(output, () => OnnxFeaturizers.Concatenate(g, parts.Select((p, i) => OnnxFeaturizers.Floats(p.Value, inputs[i])).ToArray()));
                    }

                    break;

                case ValueToKeyMappingTransformer keys:
                    ProducePairs(MlRounding.Bridge.TransformerInternals.ColumnPairs(keys), (_, output, input, x) =>
                    {
                        DataViewSchema.Column keyColumn = after[output];
                        return () => OnnxFeaturizers.ValueToKey(g, x.Value, keyColumn, input);
                    });
                    break;

                case KeyToVectorMappingTransformer vectors:
                    var bags = MlRounding.Bridge.TransformerInternals.KeyToVectorBags(vectors);
                    ProducePairs(MlRounding.Bridge.TransformerInternals.ColumnPairs(vectors), (i, _, input, x) =>
                    {
                        bool bag = bags[i];
                        int keyCount = OnnxFeaturizers.KeyCount(schema[input]);
                        return () => OnnxFeaturizers.KeyToVector(g, x.Value, keyCount, bag);
                    });
                    break;

                case MissingValueReplacingTransformer replacing:
                    ProducePairs(MlRounding.Bridge.TransformerInternals.ColumnPairs(replacing), (i, output, input, x) =>
                    {
                        int width = OnnxFeaturizers.ValueCount(after[output].Type);
                        float[] values = MlRounding.Bridge.TransformerInternals.ReplacementValues(replacing, i, width)
                            ?? throw new NotSupportedException($"Missing-value replacement of column '{input}' ({schema[input].Type}) cannot be exported to ONNX by MlRounding; it takes columns of Single.");
                        return () => OnnxFeaturizers.ReplaceMissing(g, OnnxFeaturizers.Floats(x.Value, input), values);
                    });
                    break;

                case MissingValueIndicatorTransformer indicators:
                    ProducePairs(MlRounding.Bridge.TransformerInternals.ColumnPairs(indicators), (_, _, input, x) => () =>
                    {
                        OnnxColumn c = OnnxFeaturizers.Floats(x.Value, input);
                        return new OnnxColumn(g.Node("IsNaN", new[] { c.Tensor }), c.Width, DataType.Bool);
                    });
                    break;

                case TypeConvertingTransformer conversion:
                    var kinds = MlRounding.Bridge.TransformerInternals.ConvertedKinds(conversion);
                    ProducePairs(MlRounding.Bridge.TransformerInternals.ColumnPairs(conversion), (i, _, input, x) => kinds[i] == DataKind.Single
                        ? () => OnnxFeaturizers.ToFloat(g, x.Value, input)
                        : throw new NotSupportedException($"The conversion of column '{input}' to {kinds[i]} cannot be exported to ONNX by MlRounding; it exports conversions to Single."));
                    break;

                case KeyToValueMappingTransformer:
                    break; // maps a predicted key back to its value after the predictor: see the PredictedLabelValue output

                case ISingleFeaturePredictionTransformer<QatRegressionModelParameters> r:
                    Network(r.FeatureColumnName, r.Model.Network, after);
                    return g.Model(Description);

                case ISingleFeaturePredictionTransformer<QatBinaryModelParameters> b:
                    Network(b.FeatureColumnName, b.Model.Network, after);
                    return g.Model(Description);

                case ISingleFeaturePredictionTransformer<QatMulticlassModelParameters> m:
                    Network(m.FeatureColumnName, m.Model.Network, after);
                    return g.Model(Description); // steps after the predictor (e.g. MapKeyToValue of PredictedLabel) are not exported

                default:
                    throw new NotSupportedException($"{step.GetType().Name} cannot be exported to ONNX by MlRounding; supported: Round, RoundToStep, Quantize, affine normalizers, Concatenate, ReplaceMissingValues and IndicateMissingValues on Single columns, ConvertType to Single, MapValueToKey, MapKeyToVector and OneHotEncoding (indicator or bag), and the QuantizationAware trainers.");
            }

            schema = after;
        }

        if (produced.Count == 0)
        {
            throw new NotSupportedException("The pipeline produces no column that ONNX export supports.");
        }

        foreach (string name in produced)
        {
            OnnxColumn c = bindings[name].Value;
            g.Output(name, c.Tensor, c.Type, c.Width);
        }

        return g.Model(Description);
    }

    private const string Description = "Exported by MlRounding: featurization, rounding and quantization-aware layers as ONNX (QDQ) operators.";

    private static IEnumerable<ITransformer> Flatten(ITransformer model) => model switch
    {
        OneHotEncodingTransformer oneHot => MlRounding.Bridge.TransformerInternals.OneHotSteps(oneHot).SelectMany(Flatten),
        IEnumerable<ITransformer> chain => chain.SelectMany(Flatten),
        _ => new[] { model },
    };

    /// <summary>ML.NET's affine normalizer: (x - offset) * scale, per slot (offset may be absent).</summary>
    /// <summary>
    /// ML.NET's affine normalizer, (x - offset) * scale per slot (offset may be absent), or its binning normalizer,
    /// (the number of the slot's bin upper bounds below x) / density - offset, NaN kept.
    /// </summary>
    private static string Normalize(OnnxGraph g, string x, object parameters, string column, int width)
    {
        switch (parameters)
        {
            case NormalizingTransformer.AffineNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> affine:
            {
                long[] dims = affine.Scale.Length == 1 ? Array.Empty<long>() : new long[] { width };
                string centred = affine.Offset.IsDefaultOrEmpty ? x : g.Node("Sub", new[] { x, g.Floats("offset", affine.Offset.ToArray(), affine.Offset.Length == 1 ? Array.Empty<long>() : new long[] { width }) });
                return g.Node("Mul", new[] { centred, g.Floats("scale", affine.Scale.ToArray(), dims) });
            }

            case NormalizingTransformer.BinNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> bins when bins.UpperBounds.Length == width:
                return OnnxFeaturizers.Bins(g, x, bins.UpperBounds.Select(b => b.ToArray()).ToArray(), bins.Density.ToArray(), bins.Offset.IsDefaultOrEmpty ? null : bins.Offset.ToArray());

            default:
                throw new NotSupportedException($"The normalizer of column '{column}' ({parameters.GetType().Name}) cannot be exported to ONNX by MlRounding; it exports affine normalizers (min-max, mean-variance, ...) and binning of vector columns.");
        }
    }
}
