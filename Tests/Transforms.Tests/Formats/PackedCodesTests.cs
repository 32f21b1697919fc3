namespace MlRounding.Tests.Formats;

[TestClass]
public sealed class PackedCodesTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    [DataRow(4)]
    [DataRow(8)]
    [DataRow(16)]
    public void PackThenUnpack_RoundTrips_InCeilOfNBitsOver8Bytes(int bits)
    {
        long min = -(1L << (bits - 1));
        var random = new Random(bits);
        int[] codes = Enumerable.Range(0, 1001).Select(_ => (int)(min + random.NextInt64(1L << bits))).ToArray();
        byte[] packed = PackedCodes.Pack(codes, bits, min);
        Assert.HasCount((1001 * bits + 7) / 8, packed);
        CollectionAssert.AreEqual(codes, PackedCodes.Unpack(packed, codes.Length, bits, min));
    }

    [TestMethod]
    public void FourBitCodes_TwoPerByte_LowNibbleFirst()
    {
        CollectionAssert.AreEqual(new byte[] { 0x21, 0x0F }, PackedCodes.Pack(new[] { -7, -6, 7 }, 4, -8));
    }

    [TestMethod]
    public void BadInput_IsRejected()
    {
        Assert.AreEqual("codes", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PackedCodes.Pack(new[] { 8 }, 4, -8)).ParamName);
        Assert.AreEqual("bits", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => PackedCodes.Pack(new[] { 0 }, 0, 0)).ParamName);
        Assert.AreEqual("packed", Assert.ThrowsExactly<ArgumentException>(() => PackedCodes.Unpack(new byte[1], 3, 4, 0)).ParamName);
    }
}
