using System.Net;
using System.Net.Sockets;

namespace Btmc.Supply.Subscriptions;

/// <summary>
/// Which webhook URLs the backend may call. A subscriber names the URL, so without a check it could make the backend
/// reach what only the backend can reach (the cloud metadata endpoint, the storage emulator, other services on the
/// private network): server-side request forgery. By default only <c>https</c> URLs whose every address is public are
/// called; the check runs when subscribing (URL and literal addresses) and again at each connection, on the addresses
/// the name resolves to then, and the connection goes to the address that was checked, so DNS answers that change
/// between the two (rebinding) gain nothing. <see cref="AllowLocal"/> (<c>Subscriptions:AllowLocalDestinations</c>)
/// lets a development or single-machine deployment call <c>http</c> and private or loopback addresses.
/// </summary>
public sealed class Destinations(bool allowLocal)
{
    public bool AllowLocal => allowLocal;

    /// <summary>Checks a subscriber's <c>dest</c>; the problem names why it is refused.</summary>
    /// <exception cref="SubscriptionControlsException">Not an absolute http(s) URL, credentials in it, plain http or a
    /// non-public address literal where only public https is allowed.</exception>
    public Uri Check(string? dest)
    {
        if (dest is null || !Uri.TryCreate(dest, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new SubscriptionControlsException("dest", "dest must be the absolute https URL of your webhook.");
        }

        if (uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new SubscriptionControlsException("dest", "dest must not carry credentials or a fragment; authenticate the calls with signatureToken.");
        }

        if (!allowLocal && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new SubscriptionControlsException("dest", "dest must use https: the events and their signature would otherwise cross the network in clear.");
        }

        if (IPAddress.TryParse(uri.IdnHost, out var literal) && !IsAllowed(literal))
        {
            throw new SubscriptionControlsException("dest", $"{literal} is not a public address; webhooks are called on public addresses only.");
        }

        return uri;
    }

    /// <summary>True when the address may be connected to: any when local destinations are allowed, else public unicast only.</summary>
    public bool IsAllowed(IPAddress address) => allowLocal || IsPublic(address);

    /// <summary>
    /// Resolves the endpoint's host and connects to its first allowed address (the <c>ConnectCallback</c> of the
    /// webhook client), so the checked address is the one connected to.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(IsAllowed).ToList();
        if (allowed.Count == 0)
        {
            throw new HttpRequestException($"{endpoint.Host} resolves to no public address ({string.Join(", ", addresses.Select(a => a.ToString()))}); webhooks are called on public addresses only.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.Select(a => new IPEndPoint(a, endpoint.Port)).First(), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Public unicast: not loopback, private, shared (CGNAT), link-local, unique-local, multicast, reserved or unspecified.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 || b[0] >= 224
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            // NAT64 (64:ff9b::/96) carries an IPv4 address: judge that one.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0))
            {
                return IsPublic(new IPAddress(b[12..]));
            }

            return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast || (b[0] & 0xfe) == 0xfc || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8));
        }

        return false;
    }
}
