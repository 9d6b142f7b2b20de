"""Stateful goals on BFCL's vehicle control API (``vehicle_control``): a parked car with some doors unlocked, some
fuel and tyre pressures, and chains that check the doors before locking them and starting the engine, look two
cities' zip codes up before estimating the distance and whether the fuel suffices, convert litres before filling
the tank, and check the tyres before driving to the nearest tyre shop. Doors, zip codes, distances, volumes and
addresses come from earlier results.
"""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain
from .pools import LOG_LINES, SENTENCES

ENV = "vehicle_control"
DOORS = ("driver", "passenger", "rear_left", "rear_right")
CITIES = ("Rivermist", "Stonebrook", "Maplecrest", "Silverpine", "Shadowridge", "Sunset Valley", "Oakendale",
          "Willowbend", "Crescent Hollow", "Autumnville", "San Francisco")
"""The cities ``get_zipcode_based_on_city`` knows."""
CAPACITY = 50.0
"""Gallons the tank holds (the API's documented limit)."""


def initial_state(rng: random.Random) -> dict[str, Any]:
    """A parked car: engine off, brake pedal released, each door locked or not, fuel, climate and tyres drawn."""
    return {"random_seed": rng.randint(1, 999_999), "fuelLevel": round(rng.uniform(2, 40), 1),
            "batteryVoltage": round(rng.uniform(11.8, 13.4), 1), "engineState": "stopped",
            "doorStatus": {door: rng.choice(("locked", "unlocked")) for door in DOORS},
            "acTemperature": float(rng.randint(17, 28)), "fanSpeed": rng.randrange(0, 101, 10),
            "acMode": rng.choice(("auto", "cool", "heat")), "humidityLevel": float(rng.randint(30, 70)),
            "headLightStatus": rng.choice(("on", "off")), "parkingBrakeStatus": rng.choice(("engaged", "released")),
            "brakePedalStatus": "released", "distanceToNextVehicle": float(rng.randint(20, 80)),
            "cruiseStatus": "inactive", "destination": "None",
            **{f"{side}TirePressure": float(rng.randint(26, 38)) for side in ("frontLeft", "frontRight", "rearLeft",
                                                                              "rearRight")}}


@chain("displayCarStatus", "pressBrakePedal", "startEngine", extras=("lockDoors", "setCruiseControl",
                                                                      "releaseBrakePedal"))
def start_the_car(d: Draft) -> None:
    """check the doors; lock the unlocked ones, press the brake and start the engine; then maybe set cruise control."""
    doors = d.state()["doorStatus"]
    open_doors = [door for door in DOORS if doors[door] == "unlocked"]
    if open_doors and not d.has("lockDoors") or (d.target == "lockDoors" and not open_doors):
        raise Infeasible("cannot lock the doors")
    d.turn("are all my doors locked?", "check the status of the car doors", "which doors are unlocked right now?",
           "show me the door status", "tell me which car doors are still open")
    d.call("displayCarStatus", option="doors")
    d.turn("lock whatever is open and start the engine", "get the car started, locking any open doors first",
           "secure the doors and start the car", "lock up any unlocked doors, press the brake and start the engine",
           "start the engine; lock the open doors before you do")
    if open_doors:
        d.call("lockDoors", uses=("door",), unlock=False, door=open_doors)
    d.call("pressBrakePedal", pedalPosition=1.0)
    d.call("startEngine", ignitionMode="START")
    follow = [m for m in ("setCruiseControl", "releaseBrakePedal") if d.has(m)]
    if follow and (d.target in follow or d.rng.random() < 0.8):
        op = d.target if d.target in follow else d.rng.choice(follow)
        if op == "releaseBrakePedal":
            d.turn("now release the brake pedal", "let go of the brake")
            d.call(op)
        else:
            speed, gap = float(d.rng.randrange(30, 121, 5)), float(d.rng.choice((40, 50, 60, 80)))
            d.turn("turn on cruise control at {s:.0f} mph, keeping {g:.0f} meters to the car ahead",
                   "set cruise to {s:.0f} with a {g:.0f} m following distance", s=speed, g=gap)
            d.call(op, speed=speed, activate=True, distanceToNextVehicle=gap)


@chain("get_zipcode_based_on_city", "estimate_distance", extras=("estimate_drive_feasibility_by_mileage",
                                                                  "fillFuelTank", "set_navigation"))
def plan_a_drive(d: Draft) -> None:
    """look two cities' zip codes up and estimate the distance; then whether the fuel suffices (filling up if not),
    or navigate there."""
    pair = _city_pair(d)
    if pair is None:
        raise Infeasible("no pair of cities with a known distance")
    start, end = pair
    d.turn("how far is it from {a} to {b}?", "estimate the driving distance between {a} and {b}", a=start, b=end)
    first = d.call("get_zipcode_based_on_city", city=start)["zipcode"]
    second = d.call("get_zipcode_based_on_city", city=end)["zipcode"]
    distance = d.call("estimate_distance", uses=("cityA", "cityB"), cityA=first, cityB=second)["distance"]
    wants = [m for m in ("estimate_drive_feasibility_by_mileage", "set_navigation") if d.has(m)]
    if not wants:
        return
    op = d.target if d.target in (*wants, "fillFuelTank") else d.rng.choice(wants)
    if op == "set_navigation":
        street = d.rng.choice(("12 Harbor Road", "88 Elm Street", "4 Station Square", "230 Lake Avenue"))
        d.turn("navigate to {s}, {c}", "set the GPS for {s} in {c}", s=street, c=end)
        d.call("set_navigation", destination=f"{street}, {end}")
        return
    d.turn("can I make that drive on the fuel I have?", "do I have enough gas for that trip?")
    can = d.call("estimate_drive_feasibility_by_mileage", uses=("distance",), distance=distance)["canDrive"]
    if not can and d.has("fillFuelTank"):
        room = CAPACITY - d.state()["fuelLevel"]
        amount = float(int(room))
        if amount <= 0:
            return
        d.turn("then fill the tank with {a:.0f} gallons", "add {a:.0f} gallons of fuel", a=amount)
        d.call("fillFuelTank", fuelAmount=amount)
    elif op == "fillFuelTank":
        raise Infeasible("no need to fill up")


def _city_pair(d: Draft) -> tuple[str, str] | None:
    for _ in range(20):
        start, end = d.rng.sample(CITIES, 2)
        codes = [(d.peek("get_zipcode_based_on_city", city=c) or {}).get("zipcode") for c in (start, end)]
        if all(codes) and d.peek("estimate_distance", cityA=codes[0], cityB=codes[1]):
            return start, end
    return None


@chain("displayCarStatus", "fillFuelTank", options=("liter_to_gallon", "gallon_to_liter"))
def fuel_up(d: Draft) -> None:
    """check the fuel; convert litres to gallons and fill that much (or say the level in litres, then fill)."""
    d.turn("how much fuel is in the tank?", "what's my fuel level?", "check the gas gauge for me")
    level = d.call("displayCarStatus", option="fuel")["fuelLevel"]
    room = CAPACITY - level
    if d.choose(("liter_to_gallon", "gallon_to_liter")) == "gallon_to_liter":
        d.turn("how many liters is that?", "convert that to liters")
        d.call("gallon_to_liter", uses=("gallon",), gallon=level)
        amount = float(int(min(room, 15)))
        if amount <= 0:
            raise Infeasible("the tank is full")
        d.turn("add {a:.0f} gallons", "fill up {a:.0f} more gallons", a=amount)
        d.call("fillFuelTank", fuelAmount=amount)
        return
    liters = float(d.rng.choice([v for v in (10, 20, 30, 40, 50, 60) if v * 0.264172 <= room] or [0]))
    if not liters:
        raise Infeasible("the tank is full")
    d.turn("I'm adding {l:.0f} liters; convert that to gallons and fill the tank with it",
           "put {l:.0f} liters in, converted to gallons first", l=liters)
    gallons = d.call("liter_to_gallon", liter=liters)["gallon"]
    d.call("fillFuelTank", uses=("fuelAmount",), fuelAmount=gallons)


@chain("check_tire_pressure", "find_nearest_tire_shop", extras=("set_navigation",))
def tyre_stop(d: Draft) -> None:
    """check the tyres; find the nearest tyre shop; navigate there."""
    d.turn("check my tire pressure", "are my tires properly inflated?", "read out the tire pressures",
           "how are the tire pressures looking?", "run a tire pressure check", "is the pressure OK on all four tires?")
    d.call("check_tire_pressure")
    d.turn("find the nearest tire shop{t}", "show me the closest tire shop{t}", "look up the nearest tire shop{t}",
           "I need a tire shop nearby{t}",
           t=d.rng.choice((" and navigate there", " and set the GPS for it", ", then take me there"))
           if d.has("set_navigation") else "")
    shop = d.call("find_nearest_tire_shop")["shopLocation"]
    if d.has("set_navigation"):
        d.call("set_navigation", uses=("destination",), destination=shop)


@chain(options=("adjustClimateControl", "setHeadlights", "activateParkingBrake"), extras=("displayCarStatus",))
def settings(d: Draft) -> None:
    """change a setting (climate, headlights or parking brake), then check it with the car status."""
    op = d.choose(("adjustClimateControl", "setHeadlights", "activateParkingBrake"))
    if op == "adjustClimateControl":
        unit = d.rng.choice(("celsius", "fahrenheit"))
        degrees = float(d.rng.randint(18, 26) if unit == "celsius" else d.rng.randint(64, 78))
        fan, mode = d.rng.randrange(10, 101, 10), d.rng.choice(("auto", "cool", "heat"))
        d.turn("set the AC to {t:.0f} degrees {u} on {m} mode with the fan at {f}", "climate: {t:.0f} {u}, fan {f}, "
               "mode {m}", t=degrees, u=unit, f=fan, m=mode)
        d.call(op, temperature=degrees, unit=unit, fanSpeed=fan, mode=mode)
        option = "climate"
    elif op == "setHeadlights":
        mode = "off" if d.state()["headLightStatus"] == "on" else "on"
        d.turn("turn the headlights {m}", "switch {m} the headlights", "headlights {m}, please", "put the headlights "
               "{m}", "I need the headlights {m}", "can the headlights go {m}", m=mode)
        d.call(op, mode=mode)
        option = "headlights"
    else:
        mode = "release" if d.state()["parkingBrakeStatus"] == "engaged" else "engage"
        d.turn("{m} the parking brake", "please {m} the handbrake", "{m} the handbrake now", "I want to {m} the "
               "parking brake", "go ahead and {m} the parking brake", m=mode)
        d.call(op, mode=mode)
        option = "parkingBrake"
    if d.has("displayCarStatus") and d.rng.random() < 0.8:
        d.turn("show me the {o} status now", "confirm the {o} setting", "what does the car report for the {o} now?",
               "display the {o} status so I can check", "double-check the {o} for me",
               o=option.replace("parkingBrake", "parking brake"))
        d.call("displayCarStatus", option=option)


@chain("get_outside_temperature_from_weather_com", "get_outside_temperature_from_google",
       extras=("adjustClimateControl",))
def outside_temperature(d: Draft) -> None:
    """ask weather.com for the outside temperature (it fails), then Google; then set the AC to match."""
    d.turn("what's the temperature outside? Try weather.com first, and Google if that fails",
           "check the outside temperature on weather.com, falling back to Google",
           "get the outside temperature from weather.com, or from Google if weather.com is down",
           "how warm is it outside? Ask weather.com, then Google if needed")
    d.call("get_outside_temperature_from_weather_com", refusal=True)
    d.call("get_outside_temperature_from_google")
    if d.has("adjustClimateControl") and (d.target == "adjustClimateControl" or d.rng.random() < 0.8):
        degrees, fan = float(d.rng.randint(16, 26)), d.rng.randrange(10, 101, 10)
        d.turn("set the AC to {t:.0f} degrees Celsius with the fan at {f}", "make it {t:.0f} degrees inside, fan speed "
               "{f}", "adjust the climate control to {t:.0f} °C and fan {f}", t=degrees, f=fan)
        d.call("adjustClimateControl", temperature=degrees, fanSpeed=fan)


@chain("get_current_speed", "display_log")
def log_speed(d: Draft) -> None:
    """read the current speed, then show it in the car's log with a note."""
    d.turn("how fast am I going?", "what's my current speed?")
    d.call("get_current_speed")
    note = d.rng.choice((*SENTENCES, *(line.split(" ", 3)[-1] for line in LOG_LINES)))
    d.turn("log a note saying '{n}'", "add '{n}' to the display log", n=note)
    d.call("display_log", messages=[note])


CHAINS = (start_the_car, plan_a_drive, fuel_up, tyre_stop, settings, outside_temperature, log_speed)
