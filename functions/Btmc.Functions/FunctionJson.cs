using System.Text.Json;
using System.Text.Json.Nodes;
using Btmc.Functions.Host;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Btmc.Functions;

/// <summary>
/// The function.json of every function, derived from the server's endpoints. The deployable layout holds one folder
/// per function, named by its <see cref="FunctionNames"/> constant; the checked-in files are
/// <c>functions/bindings/&lt;Name&gt;/function.json</c> (published as <c>&lt;Name&gt;/function.json</c>), which a test regenerates and compares (and rewrites when
/// BTMC_WRITE_FUNCTION_JSON=1).
/// </summary>
/// <remarks>
/// An HTTP function is a named endpoint: an httpTrigger with the endpoint's methods and route, relative to host.json's
/// routePrefix (a catch-all parameter written <c>{*name}</c>), authLevel "anonymous" (the handler authenticates every
/// request against the partner registry, whose keys the host does not hold), and one http output, so that the host proxies the request unchanged to the same
/// path on the handler. A function with another trigger (Event Hubs, timer) is an endpoint at <c>POST /{name}</c>
/// carrying a <see cref="TriggerFunction"/>: its trigger binding and retry policy, written as they are.
/// </remarks>
public static class FunctionJson
{
    public const string FileName = "function.json";

    private static readonly JsonSerializerOptions Format = new()
    {
        WriteIndented = true,
        NewLine = "\n",
    };

    /// <summary>Function name → function.json text (indented, "\n" line ends, final newline), ordered by name.</summary>
    public static SortedDictionary<string, string> Generate(IEnumerable<Endpoint> endpoints, string routePrefix)
    {
        var functions = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            if (endpoint.Metadata.GetMetadata<TriggerFunction>() is { } trigger)
            {
                // The host invokes a non-HTTP function at POST /{name}.
                if (name is null || endpoint.RoutePattern.RawText?.TrimStart('/') != name
                    || endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not ["POST"])
                {
                    throw new InvalidOperationException($"The trigger function at {endpoint.RoutePattern.RawText} must be named and mapped as POST /<its name>.");
                }

                if (!functions.TryAdd(name, Write(TriggerFunctionJson(trigger))))
                {
                    throw new InvalidOperationException($"Two endpoints are named {name}.");
                }

                continue;
            }

            var route = RelativeRoute(endpoint.RoutePattern, routePrefix);
            if (name is null)
            {
                // The host only calls routes under its prefix; the others (GET / for the readiness probe) are no function.
                if (route is not null)
                {
                    throw new InvalidOperationException($"The endpoint {endpoint.RoutePattern.RawText} has no name: name it with a FunctionNames constant.");
                }

                continue;
            }

            if (route is null)
            {
                throw new InvalidOperationException($"The function {name} is mapped at {endpoint.RoutePattern.RawText}, outside the route prefix '{routePrefix}'.");
            }

            if (!functions.TryAdd(name, Write(HttpFunction(endpoint, route))))
            {
                throw new InvalidOperationException($"Two endpoints are named {name}.");
            }
        }

        return functions;
    }

    private static JsonObject TriggerFunctionJson(TriggerFunction function)
    {
        var json = new JsonObject { ["bindings"] = new JsonArray(function.Trigger.DeepClone()) };
        if (function.Retry is not null)
        {
            json["retry"] = function.Retry.DeepClone();
        }

        return json;
    }

    private static JsonObject HttpFunction(Endpoint endpoint, string route)
    {
        var trigger = new JsonObject
        {
            ["type"] = "httpTrigger",
            ["direction"] = "in",
            ["name"] = "req",
            // The handler authenticates every request itself against the partner registry in the governance chain
            // (docs/partners.md), whose keys the host does not know: a host key check would refuse them.
            ["authLevel"] = "anonymous",
        };
        // No methods: the endpoint accepts any method, and so does the function.
        if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 } methods)
        {
            trigger["methods"] = new JsonArray([.. methods.HttpMethods.Select(m => (JsonNode?)m.ToLowerInvariant()).Order()]);
        }

        trigger["route"] = route;
        return new JsonObject
        {
            ["bindings"] = new JsonArray(
                trigger,
                new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
        };
    }

    /// <summary>The pattern without the route prefix's segments, in the Functions route syntax; null when the
    /// pattern is not under the prefix.</summary>
    private static string? RelativeRoute(RoutePattern pattern, string routePrefix)
    {
        var prefix = routePrefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var segments = pattern.PathSegments;
        if (segments.Count <= prefix.Length)
        {
            return null;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            if (segments[i].Parts is not [RoutePatternLiteralPart literal]
                || !string.Equals(literal.Content, prefix[i], StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
        }

        return string.Join('/', segments.Skip(prefix.Length).Select(s => string.Concat(s.Parts.Select(Part))));
    }

    private static string Part(RoutePatternPart part) => part switch
    {
        RoutePatternLiteralPart literal => literal.Content,
        RoutePatternSeparatorPart separator => separator.Content,
        RoutePatternParameterPart parameter => Parameter(parameter),
        _ => throw new InvalidOperationException($"Unknown route part {part.GetType().Name}."),
    };

    private static string Parameter(RoutePatternParameterPart parameter)
    {
        var constraints = parameter.ParameterPolicies.Select(policy =>
            ":" + (policy.Content ?? throw new InvalidOperationException($"The route parameter {parameter.Name} has a policy object, which function.json cannot express.")));
        var defaultValue = parameter.Default is { } value ? "=" + value : string.Empty;
        return $"{{{(parameter.IsCatchAll ? "*" : string.Empty)}{parameter.Name}{string.Concat(constraints)}{defaultValue}{(parameter.IsOptional ? "?" : string.Empty)}}}";
    }

    private static string Write(JsonObject function) => function.ToJsonString(Format) + "\n";
}
