/* wo_regs.h -- register map of the wearing-off fabric on the HPS-to-FPGA lightweight bridge.
 *
 * Generated values are checked against hdl/hps_regs.py (the gateware, authoritative) by
 * tests/gateware/test_hps_regs.py. 32-bit registers, byte offsets from the bridge base.
 *
 *   0x00 ID        RO  0x574F5452 ("WOTR")
 *   0x04 STATUS    RO  bit 0 result FIFO not empty; bit 1 result FIFO overflowed (sticky,
 *                      frames were dropped whole); bit 2 sample FIFO full;
 *                      bits 31:16 result FIFO level (bytes)
 *   0x08 RESULT    RO  pops one byte of the result frame stream (spec/frames.py format):
 *                      bits 7:0 byte, bit 8 VALID (0: FIFO was empty, nothing popped),
 *                      bit 9 LAST (final CRC byte of a frame)
 *   0x0C CONTROL   RW  bit 0 SOURCE (0 sensor UART, 1 HPS replay), bit 1 write 1: clear
 *                      the overflow flag; bits 15:8 PRESENT (muscle mask, EMG_CHANNELS
 *                      order); bits 17:16 STRIDE_REF (0 LG, 1 TA, 2 BF, 3 RF);
 *                      bits 31:24 EEG_ENABLE (site mask)
 *   0x10 SAMPLE    WO  one byte (bits 7:0) of a SAMPLES frame into the replay parser
 *   0x14 DROPPED   RO  result frames dropped because the FIFO was full (saturates at
 *                      0xFFFFFFFF)
 *   0x18 SAMPLES_IN RO SAMPLES frames accepted by the ingress parser (saturates)
 *   0x1C INGRESS   RO  bits 15:0 SAMPLES frames rejected (type/length/CRC), bits 31:16
 *                      SAMPLES frames lost by sequence number (both saturate)
 *   0x20 RX_ERRORS RO  sensor UART: bits 15:0 framing errors, bits 31:16 bytes lost to
 *                      overrun (both saturate)
 */
#ifndef WO_REGS_H
#define WO_REGS_H

#define WO_BRIDGE_BASE   0xFF200000u
#define WO_BRIDGE_SPAN   0x1000u

#define WO_REG_ID        0x00u
#define WO_REG_STATUS    0x04u
#define WO_REG_RESULT    0x08u
#define WO_REG_CONTROL   0x0Cu
#define WO_REG_SAMPLE    0x10u
#define WO_REG_DROPPED   0x14u
#define WO_REG_SAMPLES_IN 0x18u
#define WO_REG_INGRESS   0x1Cu
#define WO_REG_RX_ERRORS 0x20u

#define WO_ID_VALUE      0x574F5452u
#define WO_RESULT_VALID  (1u << 8)
#define WO_RESULT_LAST   (1u << 9)
#define WO_STATUS_RESULT_NOT_EMPTY (1u << 0)
#define WO_STATUS_OVERFLOW         (1u << 1)
#define WO_STATUS_SAMPLE_FULL      (1u << 2)
#define WO_CONTROL_SOURCE_REPLAY   (1u << 0)
#define WO_CONTROL_CLEAR_OVERFLOW  (1u << 1)

#endif
