using System.Globalization;
using MlRounding.Samples;

// train FOLDER: writes the digit PNGs and model.zip into FOLDER, prints the test accuracy.
// score FOLDER: loads FOLDER/model.zip in this fresh process and scores the test PNGs; says whether LibTorch is loaded.
string command = args.Length > 0 ? args[0] : "train";
string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "mlrounding-images");
string digits = Path.Combine(AppContext.BaseDirectory, "data", "digits.csv");
string images = Path.Combine(folder, "images"), model = Path.Combine(folder, "model.zip");
var (train, test) = command == "score" ? ImageClassificationSample.Split(digits) : ImageClassificationSample.WriteImages(digits, images);
double accuracy = command == "score"
    ? ImageClassificationSample.Score(model, images, test)
    : ImageClassificationSample.Train(images, train, test, model);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{command}: test accuracy {accuracy:F4} on {test.Count} images"));
string loaded = !OperatingSystem.IsLinux() ? "unknown (Linux only)" : File.ReadAllText("/proc/self/maps").Contains("libtorch", StringComparison.Ordinal) ? "yes" : "no";
Console.WriteLine($"libtorch loaded: {loaded}");
