using Onnx;
using MlRounding.Onnx;

namespace MlRounding.Tests.Formats;

/// <summary>Weight codes as ONNX raw data, against bytes worked out by hand from the ONNX spec's packing rule.</summary>
[TestClass]
public sealed class OnnxCodesTests
{
    private static byte[] Raw(long[] codes, TensorProto.Types.DataType type)
    {
        var g = new OnnxGraph();
        g.Codes("w", codes, type, codes.Length);
        return g.Graph.Initializer.Single().RawData.ToByteArray();
    }

    [TestMethod]
    public void Int2_FourPerByte_FirstInTheLowestBits_TwosComplement()
    {
        // -1 -> 0b11, 1 -> 0b01, 0 -> 0b00, -2 -> 0b10: 0b10_00_01_11 = 0x87; then 1 alone: 0x01.
        CollectionAssert.AreEqual(new byte[] { 0x87, 0x01 }, Raw(new long[] { -1, 1, 0, -2, 1 }, OnnxGraph.Int2));
    }

    [TestMethod]
    public void Int4_TwoPerByte_LowNibbleFirst_TwosComplement()
    {
        // -7 -> 0x9, 7 -> 0x7: 0x79; -1 -> 0xF, -8 -> 0x8: 0x8F; 3 alone: 0x03.
        CollectionAssert.AreEqual(new byte[] { 0x79, 0x8F, 0x03 }, Raw(new long[] { -7, 7, -1, -8, 3 }, TensorProto.Types.DataType.Int4));
    }

    [TestMethod]
    public void Int8AndUint16_BytesAndLittleEndian()
    {
        CollectionAssert.AreEqual(new byte[] { 0x81, 0x7F, 0xFF }, Raw(new long[] { -127, 127, -1 }, TensorProto.Types.DataType.Int8));
        CollectionAssert.AreEqual(new byte[] { 0x34, 0x12, 0xFF, 0xFF }, Raw(new long[] { 0x1234, 65535 }, TensorProto.Types.DataType.Uint16));
    }

    [TestMethod]
    public void OpsetAndIrVersion_GoTogether()
    {
        var g = new OnnxGraph();
        Assert.AreEqual((13, 8), (g.Opset, g.IrVersion));
        g.RequireOpset(21);
        Assert.AreEqual((21, 10), (g.Opset, g.IrVersion));
        g.RequireOpset(25);
        g.RequireOpset(13);
        Assert.AreEqual((25, 13), (g.Opset, g.IrVersion), "the highest opset asked for wins");
    }
}
