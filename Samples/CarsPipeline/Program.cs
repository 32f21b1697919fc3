using System.Globalization;
using MlRounding.Samples;

// The pipeline `mlround train --data cars.csv --label Miles_per_Gallon` builds, written by hand with ML.NET.
string onnx = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "cars.onnx");
var result = CarsPipelineSample.Run(onnx);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.TrainRows} cars to train on, {result.TestRows} held out; held-out RMSE {result.Rmse:F3} mpg; network {result.ModelBytes} bytes; ONNX written to {onnx}"));
