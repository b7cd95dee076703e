using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Btmc.Ledger.Dpos;

/// <summary>
/// The deterministic random stream a schedule is drawn from (docs/dpos.md, "Draws"): block <c>i</c> (from 0) is
/// <c>SHA-256(seed ‖ u64 i)</c>, read as four big-endian u64 values in order.
/// </summary>
internal sealed class ScheduleDraws(Hash32 seed)
{
    private readonly byte[] _block = new byte[Hash32.Size];
    private ulong _counter;
    private int _used = 4;

    /// <summary>The next 64-bit value of the stream.</summary>
    public ulong Next()
    {
        if (_used == 4)
        {
            Span<byte> input = stackalloc byte[Hash32.Size + 8];
            seed.CopyTo(input);
            BinaryPrimitives.WriteUInt64BigEndian(input[Hash32.Size..], _counter++);
            SHA256.HashData(input, _block);
            _used = 0;
        }

        return BinaryPrimitives.ReadUInt64BigEndian(_block.AsSpan(8 * _used++, 8));
    }

    /// <summary>A uniform value in [0, n), n ≥ 1, by rejection: draws until a value below 2⁶⁴ − (2⁶⁴ mod n), then takes it mod n.</summary>
    public ulong Uniform(ulong n)
    {
        ArgumentOutOfRangeException.ThrowIfZero(n);
        var excess = ((ulong.MaxValue % n) + 1) % n; // 2^64 mod n
        while (true)
        {
            var value = Next();
            if (value <= ulong.MaxValue - excess)
            {
                return value % n;
            }
        }
    }
}
