"""cocotb access to a bus port of the DUT by the member names of its signature.

Amaranth flattens a port ``axi: In(AXI3Signature())`` of the top level into
``axi__awid``, ``axi__awaddr``, ...; :class:`BusHandles` maps the member names of
the signature back to those handles, so a bus-functional model writes
``bus.awid.value = 1`` whatever the port is called::

    axi = BusHandles(dut, "axi", AXI3Signature())
    axi.idle()                          # every member the master drives to 0
    axi.awvalid.value = 1
"""

from amaranth.lib import wiring

__all__ = ["BusHandles"]


class BusHandles:
    """The DUT handles of one bus port, as attributes named after the signature's members.

    Parameters
    ----------
    dut : cocotb handle
        The top level.
    name : str
        Name of the port in the component's signature (``"axi"``, ``"bus"``).
    signature : wiring.Signature
        The bus signature, from the **master's** point of view (as
        :class:`hdl.bus.AXI3Signature` and :class:`hdl.bus.AvalonMMSignature` are),
        whatever the direction of the port on the DUT. Nested interfaces are
        reached with ``__``-joined names (``getattr(bus, "a__b")``).

    Attributes
    ----------
    master_driven : tuple of str
        Members the master drives (``Out`` in ``signature``): what a testbench
        playing the master assigns.
    """

    def __init__(self, dut, name, signature):
        if isinstance(signature, wiring.FlippedSignature):
            signature = signature.flip()
        self.signature = signature
        names, driven = [], []
        for path, member in signature.members.flatten():
            if not member.is_port:
                continue
            key = "__".join(str(p) for p in path)
            setattr(self, key, getattr(dut, f"{name}__{key}"))
            names.append(key)
            if member.flow == wiring.Out:
                driven.append(key)
        self.names = tuple(names)
        self.master_driven = tuple(driven)

    def idle(self):
        """Drive 0 on every member the master drives."""
        for key in self.master_driven:
            getattr(self, key).value = 0
